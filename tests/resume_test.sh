#!/usr/bin/env bash
# kiln train --backup: a training killed with SIGKILL at random moments, then run again with the
# same command until it finishes, ends with the same weights and history, to the bit, as the
# uninterrupted run; a backup folder that cannot be written is an error that says so.
# Usage: resume_test.sh PATH/TO/kiln [TRIALS]
set -u
source "$(dirname "$0")/check.sh"
TRIALS=${2:-5}

# Nadam (a counter beside its tensors) with a moving average of the weights, 6 short epochs.
# (kiln itself is started in the background, not a shell function around it, so that the kill
# reaches kiln rather than a subshell that would leave it running.)
ARGS=(train --epochs 6 --validation-size 50000 --optimizer nadam --use-ema --seed 4)
start=$(date +%s.%N)
"$KILN" "${ARGS[@]}" --output "$WORK/reference" --verbose 0 >/dev/null 2>&1
seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
check "the uninterrupted run finishes" test -s "$WORK/reference/model.safetensors"

restored=0
for trial in $(seq 1 "$TRIALS"); do
  out="$WORK/trial$trial" backup="$WORK/backup$trial"
  kills=0
  # Killed twice at random moments within the uninterrupted run's time, then left to finish.
  while [ $kills -lt 2 ]; do
    "$KILN" "${ARGS[@]}" --output "$out" --backup "$backup" --verbose 0 >/dev/null 2>&1 &
    pid=$!
    sleep "$(awk -v s="$RANDOM" -v t="$seconds" 'BEGIN { srand(s); printf "%.2f", t * rand() }')"
    kill -KILL $pid 2>/dev/null && kills=$((kills + 1))
    wait $pid 2>/dev/null
    [ -s "$out/model.safetensors" ] && [ ! -d "$backup" ] && break  # finished before the kill
  done
  had_backup=0
  [ -d "$backup" ] && had_backup=1 && restored=$((restored + 1))
  resumed=$("$KILN" "${ARGS[@]}" --output "$out" --backup "$backup" --verbose 2 2>&1)
  check "trial $trial: the resumed run finishes ($kills kills)" test -s "$out/model.safetensors"
  check "trial $trial: the same weights to the bit" cmp -s "$WORK/reference/model.safetensors" "$out/model.safetensors"
  check "trial $trial: the same history" cmp -s "$WORK/reference/history.csv" "$out/history.csv"
  check "trial $trial: the backup is removed at the end" test ! -e "$backup"
  if [ $had_backup = 1 ]; then
    check "trial $trial: says where it continues" contains "$resumed" "continuing after epoch"
  fi
done
echo "$restored of $TRIALS trials continued from a backup (the others were killed before the first one or finished)"
check "some trial continued from a backup" test $restored -gt 0

# A folder nobody may write to (the run as the unprivileged user 'nobody', since root writes
# anywhere): the first backup fails with an error naming the folder, and nothing is half-written.
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
  shared=$(mktemp -d /tmp/kiln-resume-XXXXXX)
  chmod 755 "$shared"
  cp "$KILN" "$shared/kiln"
  mkdir -p "$shared/readonly" "$shared/out"
  chmod 755 "$shared/readonly"
  chmod 777 "$shared/out"
  err=$(cd "$shared/out" && setpriv --reuid=nobody --regid=nogroup --clear-groups "$shared/kiln" train --epochs 2 \
        --validation-size 59000 --verbose 0 --output "$shared/out/model" --backup "$shared/readonly/backup" 2>&1)
  rc=$?
  check "an unwritable backup folder fails the run" test $rc -ne 0
  check "the error names the backup and the folder" contains "$err" "could not write the backup of epoch 1 to $shared/readonly/backup"
  check "nothing is left half-written" test -z "$(ls -A "$shared/readonly")"
  rm -rf "$shared"
else
  echo "skipped: the read-only folder test (no setpriv or no user nobody)"
fi

finish

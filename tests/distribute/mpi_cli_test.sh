#!/usr/bin/env bash
# kiln train under mpirun: the chief alone writes files and prints; a killed process and a stalled
# one each end the whole run with an error within a bounded time; a run backed up on two
# processes resumes on one and on three.
# Usage: mpi_cli_test.sh PATH/TO/kiln
set -u
source "$(dirname "$0")/../check.sh"
MPIRUN=(mpirun --oversubscribe --allow-run-as-root)
# 100 steps of 32 per epoch; the rest of the training images validate.
ARGS=(train --validation-size 56800 --seed 3)

# Each process in its own folder, so that what each writes can be told apart.
run_in_own_folders() {
  "${MPIRUN[@]}" -np "$1" bash -c 'mkdir -p "$0/rank$OMPI_COMM_WORLD_RANK" && cd "$0/rank$OMPI_COMM_WORLD_RANK" &&
    echo $$ > pid && exec "$@"' "$WORK/$2" "$KILN" "${@:3}"
}

out=$(run_in_own_folders 2 files "${ARGS[@]}" --epochs 2 --output model --verbose 2 2>&1)
check "two processes train (exit 0)" test $? -eq 0
check "the chief writes the model, history, recipe and curves" \
  test -s "$WORK/files/rank0/model/model.safetensors" -a -s "$WORK/files/rank0/model/history.csv" \
       -a -s "$WORK/files/rank0/model/recipe.json" -a -s "$WORK/files/rank0/model/curves.png"
check "the other process writes nothing" test ! -e "$WORK/files/rank1/model"
check "one summary is printed" test "$(grep -c 'Total params' <<<"$out")" -eq 1
check "the run says it is data-parallel" contains "$out" "Data-parallel over 2 processes"
check "each epoch is printed once" test "$(grep -c '^100/100' <<<"$out")" -eq 2
check "the test accuracy is printed once" test "$(grep -c 'Test loss' <<<"$out")" -eq 1
check "history.csv has both epochs" test "$(wc -l < "$WORK/files/rank0/model/history.csv")" -eq 3

# kiln evaluate under mpirun: the processes split the test set and print the one-process result.
alone=$("$KILN" evaluate "$WORK/files/rank0/model" --json)
shared=$("${MPIRUN[@]}" -np 3 "$KILN" evaluate "$WORK/files/rank0/model" --json)
check "evaluate on three processes prints the one-process result once ($shared)" test "$alone" = "$shared"

# Runs a long two-process training in folder NAME, sends SIGNAL to the second process two
# seconds after it starts, and sets status and elapsed (seconds from the start) when the run ends.
fault_run() {
  local name=$1 signal=$2 runner start
  start=$(date +%s)
  run_in_own_folders 2 "$name" "${ARGS[@]}" --epochs 200 --output model --verbose 0 "${@:3}" >"$WORK/$name.log" 2>&1 &
  runner=$!
  for _ in $(seq 100); do [ -s "$WORK/$name/rank1/pid" ] && break; sleep 0.1; done
  sleep 2
  kill "-$signal" "$(cat "$WORK/$name/rank1/pid")"
  wait $runner
  status=$?
  elapsed=$(( $(date +%s) - start ))
  echo "$name process: the run ended with status $status, ${elapsed} s after it started"
}

# A process killed mid-run: mpirun ends the others and fails.
fault_run killed KILL
check "a killed process fails the run (status $status)" test $status -ne 0
check "within 30 s of starting (took ${elapsed} s)" test $elapsed -lt 30
check "mpirun names the killed process" grep -q "signal 9" "$WORK/killed.log"

# A stalled process (stopped, not dead): the others give up after --mpi-timeout and end the run.
fault_run stalled STOP --mpi-timeout 5
check "a stalled process fails the run (status $status)" test $status -ne 0
check "within the timeout and the abort (took ${elapsed} s)" test $elapsed -lt 40
check "the chief says the others did not answer" grep -q "did not answer for 5 s" "$WORK/stalled.log"

# Resume: a two-process run stopped after its first backup continues on one process and on
# three, from that epoch, and the three histories end alike.
for np in 1 3; do
  rm -rf "$WORK/resume$np" && mkdir -p "$WORK/resume$np"
  cd "$WORK/resume$np"
  "${MPIRUN[@]}" -np 2 "$KILN" "${ARGS[@]}" --epochs 60 --output model --backup backup --verbose 0 >/dev/null 2>&1 &
  runner=$!
  for _ in $(seq 300); do [ -s backup/state.json ] && break; sleep 0.1; done
  kill -TERM $runner; wait $runner 2>/dev/null
  check "the two-process run left a backup" test -s backup/state.json
  done_epochs=$(/usr/bin/python3 -c 'import json; print(json.load(open("backup/state.json"))["epoch"])')
  if [ "$np" = 1 ]; then
    out=$("$KILN" "${ARGS[@]}" --epochs $((done_epochs + 2)) --output model --backup backup --verbose 2 2>&1)
  else
    out=$("${MPIRUN[@]}" -np 3 "$KILN" "${ARGS[@]}" --epochs $((done_epochs + 2)) --output model --backup backup \
      --verbose 2 2>&1)
  fi
  check "on $np process(es): continues after epoch $done_epochs" contains "$out" "continuing after epoch $done_epochs"
  check "on $np process(es): runs the two epochs left" test "$(grep -c '^100/100' <<<"$out")" -eq 2
  check "on $np process(es): history.csv has every epoch" \
    test "$(wc -l < model/history.csv)" -eq $((done_epochs + 3))
  check "on $np process(es): the backup is removed at the end" test ! -e backup
  cd - >/dev/null
done

finish

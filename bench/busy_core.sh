#!/usr/bin/env bash
# The seed-model epoch on 1 and 2 threads while another process keeps one core busy (a shell
# loop), alternating, for this build and optionally another: two threads must not be slower
# than one. Usage: bench/busy_core.sh [rounds] [OTHER_BENCH_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
other=${2:-}
cmake --build build --target bench_train_epoch >/dev/null
out=$(mktemp)
(while :; do :; done) &
busy=$!
trap 'kill $busy; rm -f "$out"' EXIT
for round in $(seq "$rounds"); do
  echo "round $round of $rounds" >&2
  for build in build/bench $other; do
    label=$([[ $build == build/bench ]] && echo this || echo other)
    for threads in 1 2; do
      "$build/bench_train_epoch" 1 "$threads" | sed "s/\"workload\": \"/\"workload\": \"$label /" >>"$out"
    done
  done
done
python3 bench/compare.py "$out"

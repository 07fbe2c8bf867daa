#!/usr/bin/env bash
# Times this build's seed-model epoch and inference beside another build's, alternating the two
# in every round so that both see the same host, and prints min and median of each and their
# ratio. For "no slower than before" checks: build the earlier commit into its own folder first.
# Usage: bench/compare.sh OTHER_BENCH_DIR [rounds]   (OTHER_BENCH_DIR holds that build's
# bench_train_epoch and bench_predict; this build's are in build/bench)
set -euo pipefail
cd "$(dirname "$0")/.."
other=$1
rounds=${2:-10}
cmake --build build --target bench_train_epoch bench_predict >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for round in $(seq "$rounds"); do
  echo "round $round of $rounds" >&2
  for build in "$other" build/bench; do
    label=$([[ $build == build/bench ]] && echo this || echo other)
    { "$build/bench_train_epoch" 1; "$build/bench_predict" 1; } | sed "s/\"workload\": \"/\"workload\": \"$label /" >>"$out"
  done
done
python3 bench/compare.py "$out"

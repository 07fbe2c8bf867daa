#!/usr/bin/env bash
# Step times of data-parallel training on this machine (docs/scaling.md): bench_scaling trains
# the seed MLP (batch 32) and the CNN (batch 64) for STEPS global batches of Fashion-MNIST,
# RUNS times in each configuration, and this prints the min and median time per step.
#   alone-2t   one process, 2 threads (kiln train as it runs here)
#   alone-1t   one process, 1 thread (one process's share of the cores below)
#   mpi-2      two processes (mpirun, loopback), 1 thread each, gradients summed in 1 MiB buckets
#              started during backward
#   mpi-2-end  the same, summed in one operation after backward (bucket 0)
# Usage: bench/scaling.sh [BUILD_DIR] [RUNS] [STEPS]
set -euo pipefail
BENCH=${1:-build}/bench/bench_scaling
RUNS=${2:-5}
STEPS=${3:-300}
MPIRUN=(mpirun --oversubscribe --allow-run-as-root -np 2)

for spec in "mlp 32" "cnn 64"; do
  read -r model batch <<<"$spec"
  for config in alone-2t alone-1t mpi-2 mpi-2-end; do
    times=()
    for _ in $(seq "$RUNS"); do
      case $config in
        alone-2t) line=$("$BENCH" "$model" "$batch" "$STEPS" alone 2) ;;
        alone-1t) line=$("$BENCH" "$model" "$batch" "$STEPS" alone 1) ;;
        mpi-2) line=$("${MPIRUN[@]}" "$BENCH" "$model" "$batch" "$STEPS" 1048576 1) ;;
        mpi-2-end) line=$("${MPIRUN[@]}" "$BENCH" "$model" "$batch" "$STEPS" 0 1) ;;
      esac
      times+=("$(grep -oE '[0-9.]+ us/step' <<<"$line" | cut -d' ' -f1)")
    done
    printf '%s\n' "${times[@]}" | sort -n |
      awk -v m="$model" -v c="$config" '{ a[NR] = $1 } END {
        printf "%-4s %-10s min %9.1f us/step  median %9.1f us/step\n", m, c, a[1], a[int((NR + 1) / 2)] }'
  done
done

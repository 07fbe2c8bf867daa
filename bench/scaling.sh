#!/usr/bin/env bash
# Step times of data-parallel training on this machine, kiln beside PyTorch (docs/scaling.md):
# bench_scaling and peers/ddp_scaling.py train the seed MLP (global batch 32, SGD) and the CNN
# (global batch 64, Adam) for STEPS global batches of Fashion-MNIST, RUNS times in each
# configuration, kiln's and PyTorch's runs alternating; this prints the min and median time per
# step of each.
#   alone-2t   one process, 2 threads (PyTorch's MLP: 1 torch thread and 2 OpenBLAS threads, its
#              best here, as in docs/performance.md)
#   alone-1t   one process, 1 thread (one process's share of the cores below)
#   mpi-2      two processes on loopback, 1 thread each: kiln under mpirun with 1 MiB gradient
#              buckets summed during backward; PyTorch DistributedDataParallel over gloo (its
#              default 25 MB buckets, overlapped with backward)
#   mpi-2-end  kiln's two processes with one sum after backward (--bucket-bytes 0)
# Usage: bench/scaling.sh [BUILD_DIR] [RUNS] [STEPS]
set -euo pipefail
BENCH=${1:-build}/bench/bench_scaling
RUNS=${2:-5}
STEPS=${3:-300}
# PyTorch as bench/run.sh gives it its best: OpenBLAS's core type and cache size found by itself.
PEER=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$(dirname "$0")/peers/ddp_scaling.py")
MPIRUN=(mpirun --oversubscribe --allow-run-as-root -np 2)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

for spec in "mlp 32" "cnn 64"; do
  read -r model batch <<<"$spec"
  for config in alone-2t alone-1t mpi-2 mpi-2-end; do
    : > "$WORK/kiln"
    : > "$WORK/torch"
    for _ in $(seq "$RUNS"); do
      case $config in
        alone-2t) "$BENCH" "$model" "$batch" "$STEPS" alone 2 >> "$WORK/kiln"
                  if [ "$model" = mlp ]; then torch_threads=(1 2); else torch_threads=(2 2); fi
                  "${PEER[@]}" "$model" "$batch" "$STEPS" 1 "${torch_threads[@]}" >> "$WORK/torch" ;;
        alone-1t) "$BENCH" "$model" "$batch" "$STEPS" alone 1 >> "$WORK/kiln"
                  "${PEER[@]}" "$model" "$batch" "$STEPS" 1 1 >> "$WORK/torch" ;;
        mpi-2) "${MPIRUN[@]}" "$BENCH" "$model" "$batch" "$STEPS" 1048576 1 >> "$WORK/kiln"
               "${PEER[@]}" "$model" "$batch" "$STEPS" 2 1 >> "$WORK/torch" ;;
        mpi-2-end) "${MPIRUN[@]}" "$BENCH" "$model" "$batch" "$STEPS" 0 1 >> "$WORK/kiln" ;;
      esac
    done
    for peer in kiln torch; do
      [ -s "$WORK/$peer" ] || continue
      grep -oE '[0-9.]+ us/step' "$WORK/$peer" | cut -d' ' -f1 | sort -n |
        awk -v m="$model" -v c="$config" -v p="$peer" '{ a[NR] = $1 } END {
          printf "%-4s %-10s %-6s min %9.1f us/step  median %9.1f us/step\n", m, c, p, a[1], a[int((NR + 1) / 2)] }'
    done
  done
done

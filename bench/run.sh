#!/usr/bin/env bash
# Runs every kiln benchmark and its PyTorch peer and prints the comparison table.
# Usage: bench/run.sh [rounds] [cnn_rounds] [resnet_rounds]   (needs a build in build/ and Debian's
# python3-torch)
# Each round runs every kiln benchmark once and then every PyTorch one once, so that both see the
# same host: on a shared machine the load changes from one minute to the next, and running all
# of kiln's repeats before all of PyTorch's gave ratios that moved by half. The table gives min and
# median over the rounds.
# PyTorch gets its best configuration on this machine: OpenBLAS (libopenblas0-pthread) with
# OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset, 1 torch thread and 2 OpenBLAS threads.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cmake --build build --target bench_train_epoch bench_predict bench_kernels bench_cnn >/dev/null
if cmake --build build --target help | grep -q bench_onednn_gemm; then
  cmake --build build --target bench_onednn_gemm >/dev/null
fi

peer() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/peers/torch_peer.py --threads 1 --repeats 1 "$@"; }
# The networks' best here: 2 torch threads (their convolutions run on oneDNN inside PyTorch).
net_peer() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/peers/torch_peer.py --threads 2 --repeats 1 --model "$@"; }
# The networks run in fewer rounds than the rest unless asked: a CNN epoch takes 8-15 s here and
# PyTorch's 40-45 s; a resnet epoch about 40 s and PyTorch's minutes.
cnn_rounds=${2:-3}
resnet_rounds=${3:-3}

for round in $(seq "$rounds"); do
  echo "round $round of $rounds" >&2
  {
    build/bench/bench_kernels 1
    build/bench/bench_predict 1
    build/bench/bench_train_epoch 1
    build/bench/bench_train_epoch 1 1   # thread scaling: the same epoch on one thread
    build/bench/bench_predict 1 0 bf16  # mixed_bfloat16 (native on AVX512_BF16 only)
    build/bench/bench_train_epoch 1 0 bf16
  } >>"$out/kiln.jsonl"
  for workload in kernels predict_1 predict_1000 train_epoch; do
    peer --workload "$workload"
  done >>"$out/peer.jsonl"
  if (( round <= cnn_rounds )); then
    build/bench/bench_cnn 1 >>"$out/kiln.jsonl"
    for workload in train_epoch predict_1 predict_1000; do
      net_peer cnn --workload "$workload"
    done >>"$out/peer.jsonl"
  fi
  if (( round <= resnet_rounds )); then
    build/bench/bench_cnn 1 0 fp32 resnet >>"$out/kiln.jsonl"
    for workload in train_epoch predict_1 predict_1000; do
      net_peer resnet --workload "$workload"
    done >>"$out/peer.jsonl"
  fi
  # oneDNN (the runner-up engine, when libdnnl-dev was installed at configure time) in its best
  # configuration here: 2 OpenMP threads that spin while waiting, bound to cores.
  if [[ -x build/bench/bench_onednn_gemm ]]; then
    OMP_NUM_THREADS=2 OMP_WAIT_POLICY=active OMP_PROC_BIND=close build/bench/bench_onednn_gemm 1 >>"$out/onednn.jsonl"
  fi
done
python3 bench/report.py "$out/kiln.jsonl" "$out/peer.jsonl" $([[ -s $out/onednn.jsonl ]] && echo "$out/onednn.jsonl")

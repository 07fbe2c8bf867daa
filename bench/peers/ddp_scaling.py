#!/usr/bin/python3
"""PyTorch peer of bench_scaling: the seed MLP (SGD, global batch 32) or the kiln cnn network
(Adam, global batch 64) trained for STEPS global batches of Fashion-MNIST, alone or with
DistributedDataParallel over gloo on WORLD processes of this machine (loopback), each taking its
share of every global batch, with THREADS torch threads and BLAS_THREADS (default THREADS)
OpenBLAS threads (PyTorch's
matrix products on this CPU go through Debian's OpenBLAS: install libopenblas0-pthread, as
docs/performance.md says). DDP's own defaults otherwise (25 MB buckets, overlapped with
backward). Prints "... us/step" from the first process.

Usage: ddp_scaling.py mlp|cnn BATCH STEPS WORLD THREADS [BLAS_THREADS]
"""
import os
import sys
import time

# Before numpy and torch load OpenBLAS, which reads it once.
os.environ["OPENBLAS_NUM_THREADS"] = sys.argv[6] if len(sys.argv) > 6 else sys.argv[5]

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_peer  # noqa: E402


def train(rank, world, name, batch, steps, threads):
    torch.set_num_threads(threads)
    if world > 1:
        dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(1)
    net = torch_peer.model() if name == "mlp" else torch_peer.cnn()
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.01) if name == "mlp" else torch.optim.Adam(net.parameters(), 1e-3)
    images = torch_peer.idx("train-images-idx3-ubyte.gz")[: batch * (steps + 4)]
    labels = torch_peer.idx("train-labels-idx1-ubyte.gz")[: batch * (steps + 4)]
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    lo, hi = batch * rank // world, batch * (rank + 1) // world
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(i):
        xb, yb = x[i * batch + lo: i * batch + hi], y[i * batch + lo: i * batch + hi]
        opt.zero_grad(set_to_none=True)
        loss_fn(net(xb), yb).backward()
        opt.step()

    for i in range(4):  # warm-up
        step(i)
    if world > 1:
        dist.barrier()
    start = time.perf_counter()
    for i in range(4, steps + 4):
        step(i)
    if world > 1:
        dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        print(f"torch {name} batch {batch}, {steps} steps, world {world}: {1e6 * seconds / steps:.1f} us/step",
              flush=True)
    if world > 1:
        dist.destroy_process_group()


def main():
    name, batch, steps, world, threads = sys.argv[1], *map(int, sys.argv[2:6])  # BLAS_THREADS: read above
    if world == 1:
        train(0, 1, name, batch, steps, threads)
        return
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29517")
    mp.spawn(train, args=(world, name, batch, steps, threads), nprocs=world)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""PyTorch peer for kiln's benchmarks: the seed MLP (SGD, batch 32), the `kiln train --model
cnn` network (Adam, batch 64) and the `--model resnet` one (shifts and flips, SGD with Nesterov
momentum and decoupled weight decay, label smoothing, batch 128; its PyTorch form is
resnet_sweep.py's), with the same initialisation, data split, batch size and optimizer, on the
same Debian dataset files.

Prints one JSON object per line: {"workload": ..., "seconds": [...]} (one entry per repeat);
the networks' workloads are prefixed "cnn " or "resnet ". Run by bench/run.sh; best
configurations here: for the MLP torch.set_num_threads(1) with OpenBLAS on 2 threads (set from
the environment by the harness), for the networks 2 torch threads.
"""
import argparse
import gzip
import json
import math
import time

import numpy as np
import torch

import resnet_sweep

DATA = "/usr/share/datasets/fashion-mnist/"


def idx(name):
    with gzip.open(DATA + name) as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def model():
    m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 300), torch.nn.ReLU(),
                            torch.nn.Linear(300, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    for layer in m:
        if isinstance(layer, torch.nn.Linear):  # Keras: glorot_uniform kernels, zero biases
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    return m


def cnn():
    """Conv2D(32, 3, relu) -> MaxPool -> Conv2D(64, 3, relu) -> MaxPool -> Dense(128, relu) -> Dense(10)."""
    m = torch.nn.Sequential(torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                            torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                            torch.nn.Linear(1600, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    for layer in m:
        if isinstance(layer, (torch.nn.Linear, torch.nn.Conv2d)):
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    return m


class ShiftFlip(torch.nn.Module):
    """The resnet recipe's augmentation as a layer that acts in training only, as Keras's do."""

    def forward(self, x):
        return resnet_sweep.shift_flip(x, 2, True, None) if self.training else x


def resnet():
    return torch.nn.Sequential(ShiftFlip(), resnet_sweep.build("B", (32, 64, 128)))


def epoch(m, opt, x, y, xv, yv, batch, scheduler=None, smoothing=0.0, decay=0.0):
    """decay: Keras's decoupled weight decay, w -= w * decay * rate before each step."""
    m.train()
    perm = torch.randperm(x.shape[0])
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=smoothing)
    params = list(m.parameters())
    for i in range(0, x.shape[0], batch):
        idx_ = perm[i:i + batch]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(m(x[idx_]), y[idx_])
        loss.backward()
        if decay:
            with torch.no_grad():
                torch._foreach_mul_(params, 1 - decay * opt.param_groups[0]["lr"])
        opt.step()
        if scheduler:
            scheduler.step()
    return evaluate(m, xv, yv, batch)


@torch.no_grad()
def evaluate(m, x, y, batch):
    m.eval()
    correct = 0
    for i in range(0, x.shape[0], batch):
        correct += (m(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / x.shape[0]


# The eight matrix products of one seed-MLP step, named as bench/kernels.cpp names them.
SHAPES = [
    ("dense fwd 32x784 . 784x300", (32, 784), (784, 300)),
    ("dense_1 fwd 32x300 . 300x100", (32, 300), (300, 100)),
    ("dense_2 fwd 32x100 . 100x10", (32, 100), (100, 10)),
    ("dense dW 784x32 . 32x300", (784, 32), (32, 300)),
    ("dense_1 dW 300x32 . 32x100", (300, 32), (32, 100)),
    ("dense_2 dW 100x32 . 32x10", (100, 32), (32, 10)),
    ("dense_1 dX 32x100 . 100x300", (32, 100), (100, 300)),
    ("dense_2 dX 32x10 . 10x100", (32, 10), (10, 100)),
]


def kernels(repeats):
    step = [0.0] * repeats
    loops = 2000
    for name, sa, sb in SHAPES:
        a, b = torch.full(sa, 0.5), torch.full(sb, 0.25)
        out = torch.empty(sa[0], sb[1])
        seconds = []
        for r in range(repeats):
            t = time.perf_counter()
            for _ in range(loops):
                torch.mm(a, b, out=out)
            seconds.append((time.perf_counter() - t) / loops)
            step[r] += seconds[-1]
        print(json.dumps({"workload": "gemm " + name, "seconds": seconds}))
    print(json.dumps({"workload": "gemm seed step (all 8)", "seconds": step}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workload", choices=["train_epoch", "predict_1", "predict_1000", "train_30", "kernels",
                                          "test_accuracy"],
                   required=True)
    p.add_argument("--model", choices=["mlp", "cnn", "resnet"], default="mlp")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=42)
    # test_accuracy: the recipe's whole run (--epochs at its batch size), then the test set; with
    # --cosine the rate falls along a cosine to 0 over the run's steps, per step as Keras's
    # CosineDecay. Adam's epsilon is Keras's 1e-7 there.
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--cosine", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if a.workload == "kernels":
        return kernels(a.repeats)
    images = torch.from_numpy(idx("train-images-idx3-ubyte.gz").astype(np.float32) / 255.0)
    labels = torch.from_numpy(idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    if a.model != "mlp":
        images = images.reshape(-1, 1, 28, 28)
    xv, x = images[:5000], images[5000:]
    yv, y = labels[:5000], labels[5000:]
    m = {"mlp": model, "cnn": cnn, "resnet": resnet}[a.model]()
    if a.model == "resnet":  # its best here: a step takes 65 ms so, 93 ms in NCHW
        m = m.to(memory_format=torch.channels_last)
    if a.model == "mlp":
        opt = torch.optim.SGD(m.parameters(), lr=0.01)
    elif a.model == "cnn":
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    else:
        opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    batch_size = {"mlp": 32, "cnn": 64, "resnet": 128}[a.model]
    recipe = dict(smoothing=0.1, decay=5e-3) if a.model == "resnet" else {}
    seconds = []
    result = {}
    if a.workload == "train_epoch":
        for _ in range(a.repeats):
            t = time.perf_counter()
            epoch(m, opt, x, y, xv, yv, batch_size, **recipe)
            seconds.append(time.perf_counter() - t)
    elif a.workload == "test_accuracy":
        if a.model == "cnn":
            opt = torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7)
        steps = a.epochs * -(-x.shape[0] // batch_size)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))) if a.cosine else None
        t = time.perf_counter()
        for _ in range(a.epochs):
            epoch(m, opt, x, y, xv, yv, batch_size, scheduler)
        seconds.append(time.perf_counter() - t)
        xt = torch.from_numpy(idx("t10k-images-idx3-ubyte.gz").astype(np.float32) / 255.0)
        if a.model != "mlp":
            xt = xt.reshape(-1, 1, 28, 28)
        yt = torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))
        result["test_accuracy"] = evaluate(m, xt, yt, 256)
    elif a.workload == "train_30":
        t = time.perf_counter()
        for _ in range(30):
            epoch(m, opt, x, y, xv, yv, 32)
        seconds.append(time.perf_counter() - t)
        xt = torch.from_numpy(idx("t10k-images-idx3-ubyte.gz").astype(np.float32) / 255.0)
        yt = torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))
        result["test_accuracy"] = evaluate(m, xt, yt, 32)
    else:
        m.eval()
        n = 1 if a.workload == "predict_1" else 1000
        batch = x[:n].contiguous()
        loops = 2000 if n == 1 else 50
        with torch.no_grad():
            for _ in range(loops // 10):
                m(batch)
            for _ in range(a.repeats):
                t = time.perf_counter()
                for _ in range(loops):
                    torch.softmax(m(batch), 1)
                seconds.append((time.perf_counter() - t) / loops)
    name = a.workload if a.model == "mlp" else a.model + " " + a.workload
    print(json.dumps({"workload": name, "seconds": seconds, **result}))


if __name__ == "__main__":
    main()

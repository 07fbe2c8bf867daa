"""A sweep over variants of `kiln train --model resnet`, in PyTorch, to choose which to measure in kiln.

Mirrors the recipe (tools/kiln/recipes.cpp): Keras's initialisation (Glorot-uniform kernels, zero
biases), batch normalization with Keras's momentum 0.99 and epsilon 1e-3, shifts of up to two
pixels with zero fill and horizontal flips, SGD with Nesterov momentum and Keras's decoupled weight
decay (w -= w * wd * lr before each step), a linear warm-up into a cosine to 0, label smoothing;
test accuracy with and without flip test-time augmentation. Each configuration is one job; jobs
run in parallel worker processes, each printing one JSON line (also appended to
$OUT/results.jsonl or /tmp/results.jsonl). Written for a GPU (DEV=cuda, the default), where the
whole list takes minutes; DEV=cpu runs it here, slowly. It chooses candidates only: a recipe's
numbers are kiln's own runs (docs/recipes.md).

Usage: python3 bench/peers/resnet_sweep.py [WORKERS] [DATA_DIR]
"""
import gzip, json, math, os, sys, time
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
import torch.multiprocessing as mp

HERE = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"


def idx(name):
    with gzip.open(os.path.join(HERE, name)) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def conv_bn(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout, momentum=0.01, eps=1e-3), nn.ReLU())


class Res(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = conv_bn(c, c)
        self.c = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c, momentum=0.01, eps=1e-3)

    def forward(self, x):
        return F.relu(x + self.bn(self.c(self.a(x))))


def glorot(m):
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        nn.init.xavier_uniform_(m.weight)
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def build(arch, w):
    c1, c2, c3 = w
    if arch == "A":  # stem, pool, conv, pool, res, conv, pool, res
        layers = [conv_bn(1, c1), nn.MaxPool2d(2), conv_bn(c1, c2), nn.MaxPool2d(2), Res(c2), conv_bn(c2, c3), nn.MaxPool2d(2), Res(c3)]
    elif arch == "B":  # res at 14x14 too
        layers = [conv_bn(1, c1), nn.MaxPool2d(2), Res(c1), conv_bn(c1, c2), nn.MaxPool2d(2), Res(c2), conv_bn(c2, c3), nn.MaxPool2d(2), Res(c3)]
    elif arch == "C":  # A without the last pool: res(c3) at 7x7
        layers = [conv_bn(1, c1), nn.MaxPool2d(2), conv_bn(c1, c2), nn.MaxPool2d(2), Res(c2), conv_bn(c2, c3), Res(c3)]
    elif arch == "D":  # conv at 28 before the first pool
        layers = [conv_bn(1, c1), conv_bn(c1, c1), nn.MaxPool2d(2), conv_bn(c1, c2), nn.MaxPool2d(2), Res(c2), conv_bn(c2, c3), nn.MaxPool2d(2), Res(c3)]
    m = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c3, 10))
    m.apply(glorot)
    return m


def macs(model):
    total = 0
    x = torch.zeros(1, 1, 28, 28)
    hooks = []

    def hook(mod, inp, out):
        nonlocal total
        if isinstance(mod, nn.Conv2d):
            total += out.numel() * mod.in_channels * 9
        elif isinstance(mod, nn.Linear):
            total += mod.in_features * mod.out_features
    for m in model.modules():
        hooks.append(m.register_forward_hook(hook))
    model.eval()
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return total


def shift_flip(x, s, flip, gen):
    b = x.shape[0]
    if s > 0:
        p = F.pad(x, (s, s, s, s))
        dy = torch.randint(0, 2 * s + 1, (b,), device=x.device, generator=gen)
        dx = torch.randint(0, 2 * s + 1, (b,), device=x.device, generator=gen)
        r = torch.arange(28, device=x.device)
        rows = (r[None, :] + dy[:, None])
        cols = (r[None, :] + dx[:, None])
        x = p[:, 0][torch.arange(b, device=x.device)[:, None, None], rows[:, :, None], cols[:, None, :]][:, None]
    if flip:
        f = torch.rand(b, device=x.device, generator=gen) < 0.5
        x = torch.where(f[:, None, None, None], x.flip(3), x)
    return x


def run(cfg, data):
    torch.manual_seed(cfg["seed"])
    dev = os.environ.get("DEV", "cuda")
    gen = torch.Generator(device=dev)
    gen.manual_seed(cfg["seed"])
    xtr, ytr, xte, yte = data
    model = build(cfg["arch"], cfg["w"])
    mac = macs(model)
    model = model.to(dev).to(memory_format=torch.channels_last)
    bs, epochs = cfg["bs"], cfg["epochs"]
    steps = math.ceil(len(xtr) / bs)
    total = steps * epochs
    warm = steps * cfg["warmup"]
    params = list(model.parameters())
    if cfg["opt"] == "sgd":
        opt = torch.optim.SGD(params, lr=cfg["lr"], momentum=0.9, nesterov=True)
    else:
        opt = torch.optim.Adam(params, lr=cfg["lr"], eps=1e-7)
    ema = [p.detach().clone() for p in params] if cfg["ema"] else None
    step = 0
    t0 = time.time()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(xtr), device=dev, generator=gen)
        for i in range(steps):
            sel = perm[i * bs:(i + 1) * bs]
            x = shift_flip(xtr[sel], cfg["shift"], cfg["flip"], gen).contiguous(memory_format=torch.channels_last)
            y = ytr[sel]
            if step < warm:
                lr = cfg["lr"] * step / warm
            else:
                lr = cfg["lr"] * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))
            for g in opt.param_groups:
                g["lr"] = lr
            loss = F.cross_entropy(model(x), y, label_smoothing=cfg["ls"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            with torch.no_grad():
                if cfg["wd"]:
                    torch._foreach_mul_(params, 1 - lr * cfg["wd"])
            opt.step()
            if ema is not None:
                m = 0.0 if step == 0 else cfg["ema"]
                with torch.no_grad():
                    torch._foreach_mul_(ema, m)
                    torch._foreach_add_(ema, params, alpha=1 - m)
            step += 1
    if ema is not None:
        with torch.no_grad():
            for a, p in zip(ema, params):
                p.copy_(a)
    model.eval()
    with torch.no_grad():
        correct = correct_tta = 0
        for i in range(0, len(xte), 1000):
            x = xte[i:i + 1000].contiguous(memory_format=torch.channels_last)
            p = F.softmax(model(x), 1)
            pf = F.softmax(model(x.flip(3)), 1)
            correct += (p.argmax(1) == yte[i:i + 1000]).sum().item()
            correct_tta += ((p + pf).argmax(1) == yte[i:i + 1000]).sum().item()
    return dict(cfg, w="x".join(map(str, cfg["w"])), mmacs=round(mac / 1e6, 2), test=correct / len(xte) * 100,
                test_tta=correct_tta / len(xte) * 100, secs=round(time.time() - t0, 1))


def worker(q, out, lock):
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    dev = os.environ.get("DEV", "cuda")
    xtr = torch.tensor(idx("train-images-idx3-ubyte.gz")[5000:], device=dev).float().div(255)[:, None]
    ytr = torch.tensor(idx("train-labels-idx1-ubyte.gz")[5000:].astype(np.int64), device=dev)
    xte = torch.tensor(idx("t10k-images-idx3-ubyte.gz"), device=dev).float().div(255)[:, None]
    yte = torch.tensor(idx("t10k-labels-idx1-ubyte.gz").astype(np.int64), device=dev)
    while True:
        cfg = q.get()
        if cfg is None:
            return
        r = run(cfg, (xtr, ytr, xte, yte))
        line = json.dumps(r)
        with lock:
            print(line, flush=True)
            with open(out, "a") as f:
                f.write(line + "\n")


def main():
    out = os.path.join(os.environ.get("OUT", "/tmp"), "results.jsonl")
    base = dict(arch="B", w=(32, 64, 128), epochs=30, bs=128, lr=0.1, wd=5e-3, ls=0.1, shift=2, flip=True, warmup=1, ema=0, opt="sgd", seed=0)
    jobs = []
    for e in (10, 20, 30):  # arch B with widths (32, 64, 128) at 30 epochs is the recipe
        for arch, w in [("A", (16, 32, 64)), ("A", (24, 48, 96)), ("A", (32, 64, 128)), ("A", (48, 96, 192)),
                        ("B", (16, 32, 64)), ("B", (24, 48, 96)), ("B", (32, 64, 128)), ("C", (24, 48, 96)), ("D", (16, 32, 64))]:
            jobs.append(dict(base, arch=arch, w=w, epochs=e))
    for v in [dict(shift=1), dict(shift=3), dict(flip=False), dict(ls=0.0), dict(ema=0.99), dict(ema=0.999),
              dict(opt="adam", lr=2e-3, wd=0.05), dict(bs=256, lr=0.2), dict(bs=512, lr=0.4), dict(bs=64, lr=0.05),
              dict(wd=1e-2), dict(wd=2e-3), dict(lr=0.05), dict(lr=0.2), dict(seed=1), dict(seed=2)]:
        jobs.append(dict(base, **v))
    for v in [dict(w=(24, 48, 96), seed=1), dict(w=(24, 48, 96), seed=2), dict(w=(24, 48, 96), epochs=15),
              dict(w=(24, 48, 96), epochs=15, bs=256, lr=0.2), dict(w=(16, 32, 64), epochs=15), dict(w=(32, 64, 128), epochs=15)]:
        jobs.append(dict(base, **v))
    # the short runs first: a sweep cut short still compares the architectures
    jobs.sort(key=lambda j: (j["epochs"] > 20, j["epochs"]))
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    ctx = mp.get_context("spawn")
    q, lock = ctx.Queue(), ctx.Lock()
    for j in jobs:
        q.put(j)
    for _ in range(n):
        q.put(None)
    ps = [ctx.Process(target=worker, args=(q, out, lock)) for _ in range(n)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()


if __name__ == "__main__":
    main()

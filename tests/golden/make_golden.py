#!/usr/bin/python3
"""Writes the PyTorch-computed fixtures kiln's tests compare against (tests/golden/*.json).

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_golden.py
Every input is generated here from a fixed seed and stored beside the outputs, so the C++ tests
need nothing but the JSON files. Weight layouts follow Keras: Dense kernels are [inputs, units].
"""
import json
import os

import torch

torch.manual_seed(1234)
HERE = os.path.dirname(os.path.abspath(__file__))


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def dense_mlp():
    """Forward and backward of Dense(relu) -> Dense(softmax) with sparse cross-entropy."""
    B, IN, H, C = 4, 6, 5, 3
    x = torch.randn(B, IN, requires_grad=True)
    w1 = (torch.randn(IN, H) * 0.5).requires_grad_()
    b1 = (torch.randn(H) * 0.1).requires_grad_()
    w2 = (torch.randn(H, C) * 0.5).requires_grad_()
    b2 = (torch.randn(C) * 0.1).requires_grad_()
    y = torch.tensor([0, 2, 1, 2])
    h = torch.relu(x @ w1 + b1)
    logits = h @ w2 + b2
    probs = torch.softmax(logits, dim=1)
    loss = torch.nn.functional.cross_entropy(logits, y)
    loss.backward()
    return {
        "B": B, "IN": IN, "H": H, "C": C,
        "x": flat(x), "labels": y.tolist(),
        "w1": flat(w1), "b1": flat(b1), "w2": flat(w2), "b2": flat(b2),
        "hidden": flat(h), "probs": flat(probs), "loss": float(loss),
        "grad_w1": flat(w1.grad), "grad_b1": flat(b1.grad),
        "grad_w2": flat(w2.grad), "grad_b2": flat(b2.grad), "grad_x": flat(x.grad),
    }


def functional(name):
    """A functional model's forward, backward, and one SGD and one Adam step from the same start.

    residual_mlp: h = relu(x W1 + b1); y = relu(h W2 + b2); logits = (h + y) W3 + b3.
    two_branch:   l = relu(x Wl + bl); r = tanh(x Wr + br); logits = concat(l, r) Wo + bo.
    Weights are named as kiln names the layers (dense, dense_1, dense_2).
    """
    B, IN = 4, 6
    x = torch.randn(B, IN)
    y = torch.tensor([0, 2, 1, 2])
    if name == "residual_mlp":
        shapes = {"dense": (IN, 5), "dense_1": (5, 5), "dense_2": (5, 3)}
    else:
        shapes = {"dense": (IN, 4), "dense_1": (IN, 3), "dense_2": (7, 3)}
    start = {}
    for layer, (i, o) in shapes.items():
        start[layer + "/kernel"] = torch.randn(i, o) * 0.5
        start[layer + "/bias"] = torch.randn(o) * 0.1

    def run(w):
        if name == "residual_mlp":
            h = torch.relu(x @ w["dense/kernel"] + w["dense/bias"])
            z = torch.relu(h @ w["dense_1/kernel"] + w["dense_1/bias"])
            joined = h + z
        else:
            left = torch.relu(x @ w["dense/kernel"] + w["dense/bias"])
            right = torch.tanh(x @ w["dense_1/kernel"] + w["dense_1/bias"])
            joined = torch.cat([left, right], dim=1)
        logits = joined @ w["dense_2/kernel"] + w["dense_2/bias"]
        return torch.softmax(logits, dim=1), torch.nn.functional.cross_entropy(logits, y)

    w = {k: v.clone().requires_grad_() for k, v in start.items()}
    probs, loss = run(w)
    loss.backward()
    out = {"B": B, "IN": IN, "x": flat(x), "labels": y.tolist(), "probs": flat(probs), "loss": float(loss),
           "weights": {k: flat(v) for k, v in start.items()},
           "grads": {k: flat(v.grad) for k, v in w.items()}}
    for opt_name, make in (("sgd", lambda p: torch.optim.SGD(p, lr=0.1)),
                           ("adam", lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-12))):
        w = {k: v.clone().requires_grad_() for k, v in start.items()}
        opt = make(list(w.values()))
        run(w)[1].backward()
        opt.step()
        out["after_" + opt_name] = {k: flat(v) for k, v in w.items()}
    return out


def tf_pads(n, k, stride, dilation, same):
    """TensorFlow's (before, after) padding along one axis: 'same' puts the odd one after."""
    if not same:
        return 0, 0
    out = -(-n // stride)
    total = max((out - 1) * stride + dilation * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def nchw(t):
    return t.permute(0, 3, 1, 2)


def nhwc(t):
    return t.permute(0, 2, 3, 1)


# Conv2D cases: (H, W, C, filters, kernel (kh, kw), strides, padding, dilation, batch).
CONV_CASES = [
    (5, 5, 2, 3, (3, 3), (1, 1), "valid", (1, 1), 2),
    (5, 5, 2, 3, (3, 3), (1, 1), "same", (1, 1), 2),
    (6, 7, 2, 2, (3, 3), (2, 2), "valid", (1, 1), 2),
    (6, 7, 2, 2, (3, 3), (2, 2), "same", (1, 1), 1),
    (6, 6, 1, 2, (2, 2), (2, 2), "same", (1, 1), 2),
    (4, 4, 2, 2, (2, 2), (1, 1), "same", (1, 1), 2),
    (5, 6, 2, 2, (2, 3), (1, 1), "same", (1, 1), 1),
    (7, 7, 2, 2, (3, 3), (1, 1), "valid", (2, 2), 2),
    (7, 6, 1, 2, (3, 3), (1, 1), "same", (2, 1), 2),
    (5, 5, 3, 2, (1, 1), (2, 2), "valid", (1, 1), 2),
]


def conv2d_cases():
    """Conv2D forward and the gradients of sum(out * r), channels-last, Keras kernel layout."""
    cases = []
    for H, W, C, F, (kh, kw), (sh, sw), padding, (dh, dw), B in CONV_CASES:
        x = torch.randn(B, H, W, C, requires_grad=True)
        kernel = (torch.randn(kh, kw, C, F) * 0.5).requires_grad_()
        bias = (torch.randn(F) * 0.1).requires_grad_()
        same = padding == "same"
        top, bottom = tf_pads(H, kh, sh, dh, same)
        left, right = tf_pads(W, kw, sw, dw, same)
        padded = torch.nn.functional.pad(nchw(x), (left, right, top, bottom))
        out = nhwc(torch.nn.functional.conv2d(padded, kernel.permute(3, 2, 0, 1), bias, stride=(sh, sw),
                                              dilation=(dh, dw)))
        r = torch.randn(out.shape)
        (out * r).sum().backward()
        cases.append({"input": [H, W, C], "filters": F, "kernel_size": [kh, kw], "strides": [sh, sw],
                      "padding": padding, "dilation_rate": [dh, dw], "batch": B, "x": flat(x),
                      "kernel": flat(kernel), "bias": flat(bias), "r": flat(r), "out_shape": list(out.shape),
                      "out": flat(out), "grad_x": flat(x.grad), "grad_kernel": flat(kernel.grad),
                      "grad_bias": flat(bias.grad)})
    return {"cases": cases}


def pooling_cases():
    """Max and average pooling, both paddings (TensorFlow's: padding never counts)."""
    cases = []
    for op in ("max", "average"):
        for padding in ("valid", "same"):
            for (ph, pw), (sh, sw) in (((2, 2), (2, 2)), ((2, 3), (1, 1)), ((3, 3), (2, 2))):
                H, W, C, B = 5, 7, 2, 2
                x = torch.randn(B, H, W, C, requires_grad=True)
                same = padding == "same"
                top, bottom = tf_pads(H, ph, sh, 1, same)
                left, right = tf_pads(W, pw, sw, 1, same)
                pads = (left, right, top, bottom)
                if op == "max":
                    padded = torch.nn.functional.pad(nchw(x), pads, value=float("-inf"))
                    out = torch.nn.functional.max_pool2d(padded, (ph, pw), (sh, sw))
                else:
                    sums = torch.nn.functional.avg_pool2d(torch.nn.functional.pad(nchw(x), pads), (ph, pw), (sh, sw),
                                                          divisor_override=1)
                    ones = torch.nn.functional.pad(torch.ones(1, 1, H, W), pads)
                    counts = torch.nn.functional.avg_pool2d(ones, (ph, pw), (sh, sw), divisor_override=1)
                    out = sums / counts
                out = nhwc(out)
                r = torch.randn(out.shape)
                (out * r).sum().backward()
                cases.append({"op": op, "padding": padding, "pool_size": [ph, pw], "strides": [sh, sw],
                              "input": [H, W, C], "batch": B, "x": flat(x), "r": flat(r),
                              "out_shape": list(out.shape), "out": flat(out), "grad_x": flat(x.grad)})
    return {"cases": cases}


def batch_normalization():
    """Training forward and gradients, Keras's moving-value rule over three steps, inference."""
    B, H, W, C = 3, 2, 2, 4
    momentum, eps = 0.9, 1e-3
    gamma = (1 + torch.randn(C) * 0.2).requires_grad_()
    beta = (torch.randn(C) * 0.2).requires_grad_()
    moving_mean, moving_var = torch.zeros(C), torch.ones(C)
    steps = []
    for step in range(3):
        x = (torch.randn(B, H, W, C) * 2 + 1).requires_grad_()
        gamma.grad = beta.grad = None
        flat_x = x.reshape(-1, C)
        mean, var = flat_x.mean(0), flat_x.var(0, unbiased=False)
        out = (x - mean) / torch.sqrt(var + eps) * gamma + beta
        r = torch.randn(out.shape)
        (out * r).sum().backward()
        moving_mean = moving_mean * momentum + mean.detach() * (1 - momentum)
        moving_var = moving_var * momentum + var.detach() * (1 - momentum)
        steps.append({"x": flat(x), "r": flat(r), "out": flat(out), "grad_x": flat(x.grad),
                      "grad_gamma": flat(gamma.grad), "grad_beta": flat(beta.grad),
                      "moving_mean": flat(moving_mean), "moving_variance": flat(moving_var)})
    x = torch.randn(B, H, W, C)
    inference = (x - moving_mean) / torch.sqrt(moving_var + eps) * gamma.detach() + beta.detach()
    return {"shape": [B, H, W, C], "momentum": momentum, "epsilon": eps, "gamma": flat(gamma), "beta": flat(beta),
            "steps": steps, "inference_x": flat(x), "inference_out": flat(inference)}


def optimizer_steps(make, steps=5, n=7):
    """Parameters after each of `steps` updates with fixed pseudo-random gradients."""
    w = torch.randn(n, requires_grad=True)
    grads = [torch.randn(n) for _ in range(steps)]
    start = flat(w)
    opt = make([w])
    after = []
    for g in grads:
        opt.zero_grad()
        w.grad = g.clone()
        opt.step()
        after.append(flat(w))
    return {"w0": start, "grads": [flat(g) for g in grads], "after": after}


EPS = 1e-7  # Keras's epsilon: probabilities are clipped to [EPS, 1 - EPS] before a log


def loss_cases():
    """Every loss's mean value and its gradient with respect to the model's output, as Keras
    defines them (sum_over_batch_size: the weighted sum over the batch divided by its size).

    Where PyTorch's own loss is Keras's (cross_entropy on logits with label smoothing, BCE with
    logits, MSE, L1, Huber) it is used; where Keras differs (it normalizes and clips
    probabilities), Keras's formula is written out in PyTorch and differentiated by autograd.
    A "fuse" case takes the output of a softmax (sigmoid) layer and its gradient is with respect
    to that layer's input, as kiln fuses the two.
    """
    F = torch.nn.functional
    B, C = 4, 3
    cases = []

    def smooth_cat(t, s):
        return t * (1 - s) + s / t.shape[1]

    def keras_cce_probs(p, t, s):
        q = torch.clamp(p / p.sum(1, keepdim=True), EPS, 1 - EPS)
        return -(smooth_cat(t, s) * torch.log(q)).sum(1)

    def keras_bce_probs(p, t, s):
        t = t * (1 - s) + 0.5 * s
        q = torch.clamp(p, EPS, 1 - EPS)
        return -(t * torch.log(q) + (1 - t) * torch.log(1 - q)).mean(1)

    def add(name, loss, out, per_sample, fuse_input=None, labels=None, targets=None, weights=None):
        w = torch.ones(out.shape[0]) if weights is None else weights
        value = (per_sample * w).sum() / out.shape[0]
        wrt = out if fuse_input is None else fuse_input
        (grad,) = torch.autograd.grad(value, wrt)
        case = {"name": name, "loss": loss, "fuse": fuse_input is not None, "B": out.shape[0],
                "C": out.shape[1], "out": flat(out), "loss_value": float(value), "grad": flat(grad)}
        if labels is not None:
            case["labels"] = labels.tolist()
        if targets is not None:
            case["targets"] = flat(targets)
        if weights is not None:
            case["weights"] = flat(weights)
        cases.append(case)

    def cfg(class_name, **config):
        return {"class_name": class_name, "config": config}

    labels = torch.tensor([0, 2, 1, 2])
    onehot = F.one_hot(labels, C).float()
    soft = torch.softmax(torch.randn(B, C), 1)  # probability rows as targets
    weights = torch.tensor([1.0, 0.5, 2.0, 0.0])

    # Categorical cross-entropy on probabilities (unnormalized rows too), on logits, fused.
    for s in (0.0, 0.1):
        p = (torch.rand(B, C) * 0.9 + 0.05).requires_grad_()
        add("cce_probs_unnormalized_ls%g" % s, cfg("CategoricalCrossentropy", label_smoothing=s), p,
            keras_cce_probs(p, onehot, s), targets=onehot)
        z = torch.randn(B, C, requires_grad=True)
        add("cce_logits_soft_ls%g" % s, cfg("CategoricalCrossentropy", from_logits=True, label_smoothing=s), z,
            F.cross_entropy(z, soft, label_smoothing=s, reduction="none"), targets=soft)
        z = torch.randn(B, C, requires_grad=True)
        p = torch.softmax(z, 1)
        add("cce_fused_ls%g" % s, cfg("CategoricalCrossentropy", label_smoothing=s), p,
            F.cross_entropy(z, onehot, label_smoothing=s, reduction="none"), fuse_input=z, targets=onehot)
    # Integer labels standing for one-hot rows, with label smoothing (kiln's extension).
    z = torch.randn(B, C, requires_grad=True)
    add("cce_logits_labels_ls0.2", cfg("CategoricalCrossentropy", from_logits=True, label_smoothing=0.2), z,
        F.cross_entropy(z, labels, label_smoothing=0.2, reduction="none"), labels=labels)
    p = torch.softmax(torch.randn(B, C), 1).requires_grad_()
    add("cce_probs_labels_ls0.1_weighted", cfg("CategoricalCrossentropy", label_smoothing=0.1), p,
        keras_cce_probs(p, onehot, 0.1), labels=labels, weights=weights)
    # Sparse categorical cross-entropy with sample weights.
    z = torch.randn(B, C, requires_grad=True)
    add("scce_logits_weighted", cfg("SparseCategoricalCrossentropy", from_logits=True), z,
        F.cross_entropy(z, labels, reduction="none"), labels=labels, weights=weights)
    z = torch.randn(B, C, requires_grad=True)
    add("scce_fused_weighted", cfg("SparseCategoricalCrossentropy"), torch.softmax(z, 1),
        F.cross_entropy(z, labels, reduction="none"), fuse_input=z, labels=labels, weights=weights)

    # Binary cross-entropy: one unit, several independent ones, on probabilities, logits, fused.
    bits1 = torch.tensor([[1.0], [0.0], [1.0], [0.0]])
    bits3 = (torch.rand(B, 3) > 0.5).float()
    for s in (0.0, 0.1):
        for bits in (bits1, bits3):
            n = bits.shape[1]
            p = (torch.rand(B, n) * 0.9 + 0.05).requires_grad_()
            add("bce_probs_%d_ls%g" % (n, s), cfg("BinaryCrossentropy", label_smoothing=s), p,
                keras_bce_probs(p, bits, s), targets=bits)
            z = (torch.randn(B, n) * 2).requires_grad_()
            add("bce_logits_%d_ls%g" % (n, s), cfg("BinaryCrossentropy", from_logits=True, label_smoothing=s), z,
                F.binary_cross_entropy_with_logits(z, bits * (1 - s) + 0.5 * s, reduction="none").mean(1),
                targets=bits)
            z = (torch.randn(B, n) * 2).requires_grad_()
            add("bce_fused_%d_ls%g" % (n, s), cfg("BinaryCrossentropy", label_smoothing=s), torch.sigmoid(z),
                F.binary_cross_entropy_with_logits(z, bits * (1 - s) + 0.5 * s, reduction="none").mean(1),
                fuse_input=z, targets=bits)
    # 0/1 integer labels for a single sigmoid unit, weighted.
    p = (torch.rand(B, 1) * 0.9 + 0.05).requires_grad_()
    add("bce_probs_labels_weighted", cfg("BinaryCrossentropy"), p, keras_bce_probs(p, bits1, 0.0),
        labels=bits1[:, 0].long(), weights=weights)

    # Regression: errors spread over [-2, 2] so that Huber sees both sides of delta.
    t = torch.randn(B, C)
    o = (t + torch.linspace(-2, 2, B * C).reshape(B, C)).requires_grad_()
    add("mse", cfg("MeanSquaredError"), o, F.mse_loss(o, t, reduction="none").mean(1), targets=t)
    add("mae", cfg("MeanAbsoluteError"), o, F.l1_loss(o, t, reduction="none").mean(1), targets=t)
    add("mse_weighted", cfg("MeanSquaredError"), o, F.mse_loss(o, t, reduction="none").mean(1), targets=t,
        weights=weights)
    for delta in (1.0, 0.5):
        add("huber_delta%g" % delta, cfg("Huber", delta=delta), o,
            F.huber_loss(o, t, delta=delta, reduction="none").mean(1), targets=t)
    return {"cases": cases}


def main():
    fixtures = {
        "dense_mlp": dense_mlp(),
        "sgd": optimizer_steps(lambda p: torch.optim.SGD(p, lr=0.1)) | {"learning_rate": 0.1},
        "sgd_momentum": optimizer_steps(lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9))
        | {"learning_rate": 0.05, "momentum": 0.9},
        "sgd_nesterov": optimizer_steps(lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True))
        | {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
        # PyTorch adds epsilon to sqrt(v) / sqrt(1 - beta_2^t), Keras (and kiln) to sqrt(v):
        # with epsilon negligible against sqrt(v) the two rules give the same steps.
        "adam": optimizer_steps(lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-12))
        | {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-12},
        "residual_mlp": functional("residual_mlp"),
        "two_branch": functional("two_branch"),
        # Generated after the fixtures above, so that adding them left those unchanged.
        "conv2d": conv2d_cases(),
        "pooling2d": pooling_cases(),
        "batch_normalization": batch_normalization(),
        # The toolkit's optimizers, generated after the fixtures above. Where PyTorch adds epsilon
        # outside a square root and Keras inside (RMSprop, Adagrad) or to u rather than |g|
        # (Adamax), epsilon is made negligible so that both rules give the same steps. Nadam has
        # no fixture: Debian's PyTorch (1.13) divides the momentum term by 1 - P_t mu_t mu_{t+1}
        # where Keras (and the Nadam paper) divide by 1 - P_t mu_{t+1}, so the C++ test works
        # Keras's formula out instead.
        "adam_amsgrad": optimizer_steps(lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-12, amsgrad=True), steps=8)
        | {"learning_rate": 0.01, "epsilon": 1e-12, "amsgrad": True},
        "adamw": optimizer_steps(lambda p: torch.optim.AdamW(p, lr=0.01, eps=1e-12, weight_decay=0.5))
        | {"learning_rate": 0.01, "epsilon": 1e-12, "weight_decay": 0.5},
        "rmsprop": optimizer_steps(lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-12))
        | {"learning_rate": 0.01, "rho": 0.9, "epsilon": 1e-12},
        "rmsprop_centered_momentum": optimizer_steps(
            lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-12, momentum=0.5, centered=True))
        | {"learning_rate": 0.01, "rho": 0.9, "epsilon": 1e-12, "momentum": 0.5, "centered": True},
        "adagrad": optimizer_steps(lambda p: torch.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1, eps=1e-12))
        | {"learning_rate": 0.1, "initial_accumulator_value": 0.1, "epsilon": 1e-12},
        "adamax": optimizer_steps(lambda p: torch.optim.Adamax(p, lr=0.01, eps=1e-12))
        | {"learning_rate": 0.01, "epsilon": 1e-12},
        # The losses, generated after every fixture above.
        "losses": loss_cases(),
    }
    for name, data in fixtures.items():
        with open(os.path.join(HERE, name + ".json"), "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()

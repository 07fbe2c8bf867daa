#!/usr/bin/python3
"""An independent reference for kiln's Keras import: reads a Keras .keras or .h5 file with h5py
and zipfile (not with kiln) and computes the model's Fashion-MNIST test accuracy with a NumPy
forward pass in float64, following Keras's definitions of each layer (TensorFlow's "same"
padding, inference-mode batch normalization, channels-last Flatten). It covers the layers of
Sequential models and of functional models that are a chain: Conv2D, Dense, BatchNormalization,
MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten, Reshape, Dropout, Activation,
ReLU, Rescaling. Pixels are scaled by 1/255 unless the model begins with Rescaling, as kiln
assumes. Used to check the accuracies in the issue's closing note; not part of the test suite
(the files are other people's). Usage: keras_reference.py FILE...
"""
import gzip
import io
import json
import re
import sys
import zipfile

import h5py
import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"


def test_set():
    images = np.frombuffer(gzip.open(f"{DATA}/t10k-images-idx3-ubyte.gz").read()[16:], np.uint8)
    labels = np.frombuffer(gzip.open(f"{DATA}/t10k-labels-idx1-ubyte.gz").read()[8:], np.uint8)
    return images.reshape(-1, 28, 28).astype(np.float64), labels


def snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def layers_of(config):
    inner = config["config"]
    layers = inner if isinstance(inner, list) else inner["layers"]
    return [l for l in layers if l["class_name"] != "InputLayer"]


def load(path):
    """(layer configs in order, list of weight lists per layer)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            config = json.loads(zf.read("config.json"))
            h5 = h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r")
        layers = layers_of(config)
        used, weights = {}, []
        for l in layers:
            base = snake_case(l["class_name"])
            used[base] = used.get(base, -1) + 1
            group = f"layers/{base}" + (f"_{used[base]}" if used[base] else "") + "/vars"
            n = len(h5[group]) if group in h5 else 0
            weights.append([h5[f"{group}/{i}"][()].astype(np.float64) for i in range(n)])
        return layers, weights
    h5 = h5py.File(path, "r")
    config = json.loads(text(h5.attrs["model_config"]))
    layers = layers_of(config)
    weights = []
    for l in layers:
        name = l["config"]["name"]
        g = h5["model_weights"][name]
        names = [text(n) for n in g.attrs.get("weight_names", [])]
        weights.append([g[n][()].astype(np.float64) for n in names])
    return layers, weights


def activation(x, name):
    if name in ("linear", None):
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(f"activation {name}")


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def same_pads(size, window, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def windows(x, kh, kw, sh, sw, padding, fill):
    """(N, OH, OW, kh, kw, C) views of x (N, H, W, C) as TensorFlow pads it."""
    if padding == "same":
        (t, b), (l, r) = same_pads(x.shape[1], kh, sh), same_pads(x.shape[2], kw, sw)
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=fill)
    v = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))  # N, H', W', C, kh, kw
    return v[:, ::sh, ::sw].transpose(0, 1, 2, 4, 5, 3)


def forward(layers, weights, x):
    for l, w in zip(layers, weights):
        cls, c = l["class_name"], l["config"]
        if cls == "Conv2D":
            if pair(c.get("dilation_rate", 1)) != (1, 1):
                raise ValueError("dilation")
            kh, kw = pair(c["kernel_size"])
            sh, sw = pair(c.get("strides", 1))
            if x.ndim == 3:
                x = x[..., None]
            v = windows(x, kh, kw, sh, sw, c.get("padding", "valid"), 0.0)
            x = np.einsum("nhwijc,ijco->nhwo", v, w[0], optimize=True)
            if len(w) > 1:
                x = x + w[1]
            x = activation(x, c.get("activation"))
        elif cls == "Dense":
            x = x @ w[0] + (w[1] if len(w) > 1 else 0)
            x = activation(x, c.get("activation"))
        elif cls == "BatchNormalization":
            i = 0
            gamma = w[i] if c.get("scale", True) else 1.0
            i += 1 if c.get("scale", True) else 0
            beta = w[i] if c.get("center", True) else 0.0
            i += 1 if c.get("center", True) else 0
            mean, var = w[i], w[i + 1]
            x = gamma * (x - mean) / np.sqrt(var + c.get("epsilon", 1e-3)) + beta
        elif cls in ("MaxPooling2D", "AveragePooling2D"):
            ph, pw = pair(c.get("pool_size", 2))
            strides = c.get("strides") or (ph, pw)
            sh, sw = pair(strides)
            if x.ndim == 3:
                x = x[..., None]
            if cls == "MaxPooling2D":
                x = windows(x, ph, pw, sh, sw, c.get("padding", "valid"), -np.inf).max(axis=(3, 4))
            else:
                ones = np.ones(x.shape[:3] + (1,))
                total = windows(x, ph, pw, sh, sw, c.get("padding", "valid"), 0.0).sum(axis=(3, 4))
                count = windows(ones, ph, pw, sh, sw, c.get("padding", "valid"), 0.0).sum(axis=(3, 4))
                x = total / count
        elif cls == "GlobalAveragePooling2D":
            x = x.mean(axis=(1, 2))
        elif cls == "Flatten":
            x = x.reshape(x.shape[0], -1)
        elif cls == "Reshape":
            x = x.reshape((x.shape[0],) + tuple(c["target_shape"]))
        elif cls == "Dropout":
            pass
        elif cls == "Activation":
            x = activation(x, c["activation"])
        elif cls == "ReLU":
            x = np.maximum(x, 0)
        elif cls == "Rescaling":
            x = x * c["scale"] + c.get("offset", 0.0)
        else:
            raise ValueError(f"layer {cls}")
    return x


def main(paths):
    images, labels = test_set()
    for path in paths:
        try:
            layers, weights = load(path)
            scale = 1.0 if layers[0]["class_name"] == "Rescaling" else 1 / 255
            correct = 0
            for start in range(0, len(images), 500):
                probs = forward(layers, weights, images[start:start + 500] * scale)
                correct += int((probs.reshape(len(probs), -1).argmax(axis=1) == labels[start:start + 500]).sum())
            print(f"{path}: accuracy {correct / len(images):.4f}", flush=True)
        except Exception as e:  # noqa: BLE001 - report and go on to the next file
            print(f"{path}: not computed ({e})", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

#!/usr/bin/python3
"""Writes a kiln model folder's architecture and weights in the layouts Keras writes, with h5py
and zipfile (no Keras needed), for tests/keras/keras_import_test.py:

  NAME.keras          Keras 3's archive: metadata.json, config.json (objects wrapped with module
                      and registered_name, DTypePolicy dtypes, inbound nodes as {"args", "kwargs"}
                      of __keras_tensor__ objects), model.weights.h5 (layers/<snake_case>[_k]/vars/i,
                      with the empty groups Keras 3.0-3.5 wrote for layers without weights)
  NAME.k2.h5          Keras 2's full-model file: model_config, training_config, keras_version and
                      backend attributes as fixed-length bytes; model_weights/<layer>/<layer>/<w>:0
  NAME.noinput.k2.h5  a Sequential written as Keras 2.2 did: no InputLayer, the first layer
                      carries batch_input_shape (Sequential models only)
  NAME.noinput.keras  a Sequential as Keras 3 writes one built without an Input: no InputLayer,
                      build_input_shape instead (Sequential models only)
  NAME.weights.h5     Keras 3's save_weights file
  NAME.k2.weights.h5  Keras 2's save_weights file (layer_names at the root)

Usage: make_keras_files.py MODEL_DIR OUT_DIR NAME
"""
import copy
import io
import json
import re
import struct
import sys
import zipfile

import h5py
import numpy as np

WEIGHT_ORDER = ["kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance"]


def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[8 + n + begin:8 + n + end], "<f4").reshape(info["shape"])
    return tensors


def layer_weights(tensors, layer):
    """A layer's weights in Keras's order, as (short name, array)."""
    own = {k.split("/", 1)[1]: v for k, v in tensors.items() if k.split("/", 1)[0] == layer}
    return [(w, own[w]) for w in WEIGHT_ORDER if w in own]


def snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def wrapped(module, class_name, config, registered=None):
    return {"module": module, "class_name": class_name, "config": config, "registered_name": registered}


# Fields Keras writes as null or false that kiln does not read: present in real files.
KERAS_DEFAULTS = {
    "Dense": {"kernel_constraint": None, "bias_constraint": None},
    "Conv2D": {"kernel_constraint": None, "bias_constraint": None},
    "BatchNormalization": {"beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
                           "gamma_constraint": None, "synchronized": False},
    "Dropout": {"noise_shape": None},
}


def keras3_layer_config(entry):
    cls = entry["class_name"]
    cfg = copy.deepcopy(entry["config"])
    if cls == "InputLayer":
        shape = cfg.pop("batch_input_shape", None) or cfg.pop("batch_shape")
        return {"batch_shape": shape, "dtype": "float32", "sparse": False, "name": cfg["name"]}
    dtype = cfg.get("dtype", "float32")
    name = dtype if isinstance(dtype, str) else dtype["config"]["name"]
    cfg["dtype"] = wrapped("keras", "DTypePolicy", {"name": name})
    for key, value in list(cfg.items()):
        if isinstance(value, dict) and "class_name" in value:
            module = "keras.initializers" if key.endswith("_initializer") else "keras.regularizers"
            cfg[key] = wrapped(module, value["class_name"], value.get("config", {}))
    cfg.update(KERAS_DEFAULTS.get(cls, {}))
    return cfg


def keras3_node(node):
    """Keras 2's [[layer, node, tensor, {}], ...] as Keras 3's {"args", "kwargs"}."""
    tensors = [{"class_name": "__keras_tensor__",
                "config": {"shape": None, "dtype": "float32", "keras_history": [ref[0], ref[1], ref[2]]}}
               for ref in node]
    return {"args": [tensors] if len(tensors) > 1 else tensors, "kwargs": {}}


def keras3_config(kiln, input_layer=True):
    cls = kiln["class_name"]
    inner = kiln["config"]
    layers = []
    for entry in inner["layers"]:
        out = wrapped("keras.layers", entry["class_name"], keras3_layer_config(entry))
        if "inbound_nodes" in entry:
            out["name"] = entry["name"]
            out["inbound_nodes"] = [keras3_node(n) for n in entry["inbound_nodes"]]
        layers.append(out)
    if cls == "Sequential":
        shape = layers[0]["config"]["batch_shape"]
        if not input_layer:
            layers = layers[1:]
        config = {"name": inner["name"], "trainable": True, "dtype": wrapped("keras", "DTypePolicy", {"name": "float32"}),
                  "layers": layers, "build_input_shape": shape}
        top = wrapped("keras", "Sequential", config)
        top["build_config"] = {"input_shape": shape}
    else:
        config = {"name": inner["name"], "trainable": True, "layers": layers,
                  "input_layers": inner["input_layers"], "output_layers": inner["output_layers"]}
        top = wrapped("keras.src.models.functional", "Functional", config, "Functional")
        top["build_config"] = {"input_shape": None}
    top["compile_config"] = {
        "optimizer": wrapped("keras.optimizers", "SGD", {
            "name": "SGD", "learning_rate": 0.009999999776482582, "weight_decay": None, "clipnorm": None,
            "global_clipnorm": None, "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
            "ema_overwrite_frequency": None, "loss_scale_factor": None, "gradient_accumulation_steps": None,
            "momentum": 0.0, "nesterov": False}),
        "loss": "sparse_categorical_crossentropy", "loss_weights": None, "metrics": ["accuracy"],
        "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}
    return top


def keras2_config(kiln, input_layer=True):
    """Keras 2 writes dtypes as strings and the input shape as batch_input_shape."""
    config = copy.deepcopy(kiln)
    for entry in config["config"]["layers"]:
        cfg = entry["config"]
        if entry["class_name"] == "InputLayer":
            cfg["batch_input_shape"] = cfg.pop("batch_input_shape", None) or cfg.pop("batch_shape")
            cfg.update({"dtype": "float32", "sparse": False, "ragged": False})
        else:
            dtype = cfg.get("dtype", "float32")
            cfg["dtype"] = dtype if isinstance(dtype, str) else dtype["config"]["name"]
            cfg.update(KERAS_DEFAULTS.get(entry["class_name"], {}))
            cfg["activity_regularizer"] = None
    if config["class_name"] == "Sequential" and not input_layer:
        layers = config["config"]["layers"]
        layers[1]["config"]["batch_input_shape"] = layers[0]["config"]["batch_input_shape"]
        config["config"]["layers"] = layers[1:]
    for key in ["kiln_version", "backend", "compile_config", "class_names", "preprocessing", "metadata"]:
        config.pop(key, None)
    config["keras_version"] = "2.15.0"
    config["backend"] = "tensorflow"
    return config


KERAS2_TRAINING_CONFIG = {
    "loss": "sparse_categorical_crossentropy",
    "metrics": [[{"class_name": "MeanMetricWrapper",
                  "config": {"name": "accuracy", "dtype": "float32", "fn": "sparse_categorical_accuracy"}}]],
    "weighted_metrics": None, "loss_weights": None,
    "optimizer_config": {"class_name": "Custom>SGD", "config": {
        "name": "SGD", "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
        "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "jit_compile": True,
        "is_legacy_optimizer": False, "learning_rate": 0.009999999776482582, "momentum": 0.0, "nesterov": False}}}


def keras_layers(kiln):
    """(name, class) of every layer, InputLayers included, in the config's order."""
    return [(e.get("name", e["config"]["name"]), e["class_name"]) for e in kiln["config"]["layers"]]


def write_keras3_weights(f, kiln, tensors):
    used = {}
    for name, cls in keras_layers(kiln):
        if cls == "InputLayer" and kiln["class_name"] == "Sequential":
            continue
        base = snake_case(cls)
        used[base] = used.get(base, -1) + 1
        group = f.create_group(f"layers/{base}" + (f"_{used[base]}" if used[base] else ""))
        vars_group = group.create_group("vars")
        for i, (_, value) in enumerate(layer_weights(tensors, name)):
            vars_group.create_dataset(str(i), data=value)
    f.create_group("vars")
    f.create_group("optimizer/vars")


def write_keras2_weights(g, kiln, tensors):
    names = [name for name, cls in keras_layers(kiln)]
    g.attrs["layer_names"] = np.array([n.encode() for n in names])
    g.attrs["backend"] = b"tensorflow"
    g.attrs["keras_version"] = b"2.15.0"
    for name in names:
        lg = g.create_group(name)
        weights = layer_weights(tensors, name)
        # Keras writes a weightless layer's empty list as an empty float64 array.
        names = [f"{name}/{w}:0".encode() for w, _ in weights]
        lg.attrs["weight_names"] = np.array(names) if names else np.array([])
        for w, value in weights:
            lg.create_dataset(f"{name}/{w}:0", data=value)


def keras_archive(path, config, weights_bytes):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.4.1", "date_saved": "2026-12-05@10:00:00"}))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", weights_bytes)


def h5_bytes(fill):
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        fill(f)
    return buf.getvalue()


def main(model_dir, out_dir, name):
    kiln = json.load(open(f"{model_dir}/config.json"))
    tensors = read_safetensors(f"{model_dir}/model.safetensors")
    k3_weights = h5_bytes(lambda f: write_keras3_weights(f, kiln, tensors))
    keras_archive(f"{out_dir}/{name}.keras", keras3_config(kiln), k3_weights)
    open(f"{out_dir}/{name}.weights.h5", "wb").write(k3_weights)

    def full_model(path, config):
        with h5py.File(path, "w") as f:
            f.attrs["keras_version"] = b"2.15.0"
            f.attrs["backend"] = b"tensorflow"
            f.attrs["model_config"] = json.dumps(config).encode()
            f.attrs["training_config"] = json.dumps(KERAS2_TRAINING_CONFIG).encode()
            write_keras2_weights(f.create_group("model_weights"), kiln, tensors)

    full_model(f"{out_dir}/{name}.k2.h5", keras2_config(kiln))
    with h5py.File(f"{out_dir}/{name}.k2.weights.h5", "w") as f:
        write_keras2_weights(f, kiln, tensors)
    if kiln["class_name"] == "Sequential":
        full_model(f"{out_dir}/{name}.noinput.k2.h5", keras2_config(kiln, input_layer=False))
        keras_archive(f"{out_dir}/{name}.noinput.keras", keras3_config(kiln, input_layer=False), k3_weights)


if __name__ == "__main__":
    main(*sys.argv[1:4])

#!/usr/bin/python3
"""Keras's files in kiln, checked with files written by h5py and zipfile in the layouts Keras 2
and Keras 3 write (make_keras_files.py), from the fixture models tests/onnx_fixtures.cpp trained:

- every layout of every model predicts what the kiln folder predicts (kiln predict, 200 test
  images, the same probabilities to 1e-6), and kiln convert makes a folder that does too;
- load_weights reads Keras 3's and Keras 2's weights files into a clone of the model;
- kiln's own .keras (kiln convert DIR x.keras) has Keras's members, order and HDF5 layout, and its
  weights equal the folder's;
- a model with unsupported items is refused, all of them listed, before its weights are read;
- broken files get an error naming the file and the item, never a crash.

Usage: keras_import_test.py KILN WEIGHTS_CHECK FIXTURES WORK
"""
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
import zipfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import make_keras_files  # noqa: E402

kiln, weights_check, fixtures, work = sys.argv[1:5]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def run(*args):
    return subprocess.run([kiln, *args], capture_output=True, text=True)


def predictions(model):
    r = run("predict", model, "--dataset", "fashion-mnist", "--indices", "0:200", "--json", "--rescale", "1/255")
    if r.returncode != 0:
        return None, r.stderr.strip()
    return np.array([json.loads(line)["probabilities"] for line in r.stdout.splitlines()]), r.stderr.strip()


MODELS = ["mlp", "cnn", "cnn-bn", "resnet", "every_layer"]
for name in MODELS:
    folder = f"{fixtures}/{name}"
    make_keras_files.main(folder, work, name)
    expected, _ = predictions(folder)
    variants = [f"{name}.keras", f"{name}.k2.h5"]
    if os.path.exists(f"{work}/{name}.noinput.keras"):
        variants += [f"{name}.noinput.keras", f"{name}.noinput.k2.h5"]
    for variant in variants:
        got, err = predictions(f"{work}/{variant}")
        check(got is not None and np.abs(got - expected).max() <= 1e-6,
              f"{variant} predicts what the kiln folder does" + ("" if got is not None else f": {err}"))
    converted = f"{work}/{name}.converted"
    r = run("convert", f"{work}/{name}.keras", converted)
    got, err = predictions(converted)
    check(r.returncode == 0 and got is not None and np.abs(got - expected).max() <= 1e-6,
          f"kiln convert {name}.keras makes a folder that predicts the same {r.stderr.strip()}")
    for weights in [f"{name}.weights.h5", f"{name}.k2.weights.h5"]:
        r = subprocess.run([weights_check, folder, f"{work}/{weights}"], capture_output=True, text=True)
        check(r.returncode == 0, f"load_weights reads {weights} into a clone of {name} {r.stdout.strip()} {r.stderr.strip()}")

    # kiln's own .keras, read back with zipfile and h5py.
    out = f"{work}/{name}.kiln.keras"
    r = run("convert", folder, out)
    check(r.returncode == 0, f"kiln convert {name} {name}.kiln.keras {r.stderr.strip()}")
    with zipfile.ZipFile(out) as zf:
        infos = zf.infolist()
        check([i.filename for i in infos] == ["metadata.json", "config.json", "model.weights.h5"],
              f"{name}.kiln.keras holds metadata.json, config.json, model.weights.h5 in Keras's order")
        check(all(i.compress_type == zipfile.ZIP_STORED for i in infos), f"{name}.kiln.keras is stored, as Keras writes it")
        config = json.loads(zf.read("config.json"))
        metadata = json.loads(zf.read("metadata.json"))
        weights_bytes = zf.read("model.weights.h5")
    kiln_config = json.load(open(f"{folder}/config.json"))
    check(set(config) >= {"module", "class_name", "config", "registered_name", "build_config"} and
          all(set(l) >= {"module", "class_name", "config", "registered_name"} for l in config["config"]["layers"]),
          f"{name}.kiln.keras config.json wraps the model and every layer as Keras 3 does")
    check(all(l["config"]["dtype"] == {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                                       "registered_name": None}
              for l in config["config"]["layers"] if l["class_name"] != "InputLayer"),
          f"{name}.kiln.keras writes dtypes as DTypePolicy objects")
    check("keras_version" in metadata and "date_saved" in metadata, f"{name}.kiln.keras metadata.json")
    expected_groups = {}
    tensors = make_keras_files.read_safetensors(f"{folder}/model.safetensors")
    used = {}
    for lname, cls in make_keras_files.keras_layers(kiln_config):
        if cls == "InputLayer":
            continue
        base = make_keras_files.snake_case(cls)
        used[base] = used.get(base, -1) + 1
        ws = make_keras_files.layer_weights(tensors, lname)
        if ws:
            expected_groups[f"layers/{base}" + (f"_{used[base]}" if used[base] else "")] = [v for _, v in ws]
    import io
    with h5py.File(io.BytesIO(weights_bytes), "r") as f:
        groups = {f"layers/{g}": [f[f"layers/{g}/vars/{i}"][()] for i in range(len(f[f"layers/{g}/vars"]))]
                  for g in f["layers"]}
    check(sorted(groups) == sorted(expected_groups) and
          all(len(groups[g]) == len(expected_groups[g]) and
              all(np.array_equal(a, b) for a, b in zip(groups[g], expected_groups[g])) for g in groups),
          f"{name}.kiln.keras model.weights.h5 holds layers/<snake_case>/vars/<i> equal to the folder's weights")
    got, err = predictions(out)
    check(got is not None and np.abs(got - expected).max() <= 1e-6, f"{name}.kiln.keras loads back and predicts the same")

# kiln export and kiln serve take a Keras file as they take a folder.
r = run("export", f"{work}/cnn-bn.k2.h5")
check(r.returncode == 0 and os.path.exists(f"{work}/cnn-bn.k2.onnx"),
      f"kiln export cnn-bn.k2.h5 writes cnn-bn.k2.onnx beside it {r.stderr.strip()[-200:]}")
try:
    import onnx
    onnx.checker.check_model(onnx.load(f"{work}/cnn-bn.k2.onnx"), full_check=True)
    check(True, "the onnx checker accepts the export of a Keras file")
except Exception as e:  # noqa: BLE001 - any failure of the checker is the finding
    check(False, f"the onnx checker accepts the export of a Keras file: {e}")

server = subprocess.Popen([kiln, "serve", f"{work}/cnn.keras", "--rest_api_port", "0"], stderr=subprocess.PIPE, text=True)
port = None
for line in server.stderr:
    m = re.search(r"on http://127\.0\.0\.1:(\d+)/", line)
    if m:
        port = m.group(1)
        break
check(port is not None, "kiln serve cnn.keras listens")
if port:
    status = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models/cnn"))
    check(status["model_version_status"][0]["state"] == "AVAILABLE", "kiln serve cnn.keras serves it as 'cnn'")
    images = np.fromfile(f"{fixtures}/images.f32", dtype=np.float32).reshape(-1, 28, 28, 1)[:3]
    body = json.dumps({"instances": images.tolist()}).encode()
    answer = json.load(urllib.request.urlopen(urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/models/cnn:predict", data=body, headers={"Content-Type": "application/json"})))
    served = np.array(answer["predictions"])
    expected = np.fromfile(f"{fixtures}/cnn.kiln.f32", dtype=np.float32).reshape(1000, -1)[:3]
    check(served.shape == expected.shape and np.abs(served - expected).max() <= 1e-6,
          "kiln serve cnn.keras predicts what kiln predicts from the folder")
server.terminate()
server.wait()

# A model with five items kiln lacks: refused, all listed, before its (unreadable) weights.
bad_layers = json.load(open(f"{fixtures}/mlp/config.json"))
k3 = make_keras_files.keras3_config(bad_layers)
layers = k3["config"]["layers"]
layers[2]["config"]["activation"] = "selu"
layers[3]["config"]["kernel_constraint"] = {"module": "keras.constraints", "class_name": "MaxNorm",
                                            "config": {"max_value": 2, "axis": 0}, "registered_name": None}
layers.insert(2, make_keras_files.wrapped("keras.layers", "LSTM", {"name": "lstm", "units": 4}))
layers.insert(2, make_keras_files.wrapped("keras.layers", "LeakyReLU", {"name": "leaky", "negative_slope": 0.3}))
with zipfile.ZipFile(f"{work}/unsupported.keras", "w") as zf:
    zf.writestr("config.json", json.dumps(k3))
    zf.writestr("model.weights.h5", b"not read")
r = run("summary", f"{work}/unsupported.keras")
for item in ["kiln cannot run 4 items", "layer 'lstm' (LSTM): kiln has no such layer",
             "layer 'leaky' (LeakyReLU): kiln has no such layer", "activation 'selu'", "option 'kernel_constraint'",
             "kiln's layers:"]:
    check(r.returncode == 1 and item in r.stderr, f"unsupported.keras refused, listing: {item}")

# Broken files: an error naming the file and the item, never a crash.
good = f"{work}/mlp.keras"
data = open(good, "rb").read()
with zipfile.ZipFile(good) as zf:
    members = {n: zf.read(n) for n in zf.namelist()}


def archive(path, contents):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, b in contents.items():
            zf.writestr(n, b)
    return path


with h5py.File(f"{work}/mlp.k2.h5", "r") as f:
    k2_config = f.attrs["model_config"]
shutil.copy(f"{work}/mlp.k2.h5", f"{work}/misshaped.k2.h5")
with h5py.File(f"{work}/misshaped.k2.h5", "r+") as f:
    g = f["model_weights/dense/dense"]
    kernel = g["kernel:0"][()]
    del g["kernel:0"]
    g.create_dataset("kernel:0", data=kernel[:-1])
shutil.copy(f"{work}/mlp.k2.h5", f"{work}/missing.k2.h5")
with h5py.File(f"{work}/missing.k2.h5", "r+") as f:
    del f["model_weights/dense_1/dense_1/bias:0"]
cases = [
    (f"{work}/truncated.keras", data[: len(data) // 2], "truncated.keras"),
    (archive(f"{work}/bomb.keras", {"config.json": b" " * (65 << 20), "model.weights.h5": b""}), None,
     "bomb.keras: member 'config.json' holds"),
    (archive(f"{work}/noweights.keras", {"config.json": members["config.json"]}), None,
     "noweights.keras: the archive has no member 'model.weights.h5'"),
    (f"{work}/truncated.h5", open(f"{work}/mlp.k2.h5", "rb").read()[:3000], "truncated.h5"),
    (f"{work}/misshaped.k2.h5", None, "'model_weights/dense/dense/kernel:0' has shape"),
    (f"{work}/missing.k2.h5", None, "model_weights/dense_1/dense_1/bias:0"),
]
for path, content, expected_text in cases:
    if content is not None:
        open(path, "wb").write(content)
    r = run("summary", path)
    check(r.returncode == 1 and expected_text in r.stderr and "Sanitizer" not in r.stderr,
          f"{os.path.basename(path)} refused: {r.stderr.strip()[:200]}")

print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)

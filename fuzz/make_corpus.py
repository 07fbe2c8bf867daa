#!/usr/bin/python3
"""Writes the seed corpus's files made by other tools (Pillow, gzip, tarfile) or by hand:
images, IDX files, CIFAR archives, history.csv, SPACE.json, image-folder listings, HTTP
requests, REST bodies, kiln serve's model config files and Keras's files (h5py). kiln-made seeds (models, weights, caches, trials, recipes) come from
the make_seeds program. Usage: make_corpus.py CORPUS_DIR (files are rewritten in place)."""
import base64
import gzip
import io
import json
import os
import struct
import sys
import shutil
import tarfile
import tempfile

from PIL import Image

corpus = sys.argv[1]


def put(harness, name, data):
    os.makedirs(os.path.join(corpus, harness), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(corpus, harness, name), "wb") as f:
        f.write(data)


def pixels(w, h, mode):
    img = Image.new(mode, (w, h))
    bands = len(img.getbands())
    img.putdata([tuple((x * 37 + y * 11 + b * 70) % 256 for b in range(bands)) if bands > 1 else (x * 37 + y * 11) % 256
                 for y in range(h) for x in range(w)])
    return img


def encoded(img, fmt, **options):
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def images():
    png = {
        "grey.png": encoded(pixels(5, 4, "L"), "PNG"),
        "rgb.png": encoded(pixels(3, 3, "RGB"), "PNG"),
        "rgba.png": encoded(pixels(4, 2, "RGBA"), "PNG"),
        "grey-alpha.png": encoded(pixels(2, 3, "LA"), "PNG"),
        "palette.png": encoded(pixels(4, 4, "RGB").convert("P", palette=Image.ADAPTIVE, colors=5), "PNG"),
        "bilevel.png": encoded(pixels(9, 2, "L").convert("1"), "PNG"),
        "grey16.png": encoded(pixels(3, 2, "I;16"), "PNG"),
    }
    jpeg = {
        "grey.jpg": encoded(pixels(8, 8, "L"), "JPEG", quality=90),
        "rgb.jpg": encoded(pixels(9, 7, "RGB"), "JPEG", quality=75),
        "progressive.jpg": encoded(pixels(16, 9, "RGB"), "JPEG", progressive=True),
        "subsampled.jpg": encoded(pixels(17, 3, "RGB"), "JPEG", subsampling=2),
        "cmyk.jpg": encoded(pixels(4, 4, "CMYK"), "JPEG"),
    }
    bmp = {
        "rgb.bmp": encoded(pixels(3, 2, "RGB"), "BMP"),
        "grey.bmp": encoded(pixels(5, 3, "L"), "BMP"),
        "bilevel.bmp": encoded(pixels(9, 2, "L").convert("1"), "BMP"),
        "palette.bmp": encoded(pixels(4, 4, "RGB").convert("P", palette=Image.ADAPTIVE, colors=6), "BMP"),
        "rgba.bmp": encoded(pixels(2, 2, "RGBA"), "BMP"),
    }
    frames = [pixels(4, 3, "RGB").convert("P", palette=Image.ADAPTIVE, colors=4) for _ in range(2)]
    gif = {
        "still.gif": encoded(pixels(5, 5, "L").convert("P"), "GIF"),
        "animated.gif": encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0),
        "transparent.gif": encoded(frames[0], "GIF", transparency=0),
        "interlaced.gif": encoded(pixels(6, 6, "L").convert("P"), "GIF", interlace=True),
    }
    for harness, files in (("png", png), ("jpeg", jpeg), ("bmp", bmp), ("gif", gif)):
        for name, data in files.items():
            put(harness, name, data)
            # image_fuzz reads its target's size, channels, interpolation and crop off the last byte.
            for pick in (0x00, 0x5B, 0xA6):
                put("image", f"{os.path.splitext(name)[0]}-{harness}-{pick:02x}", data + bytes([pick]))


def idx(shape, values):
    return bytes([0, 0, 8, len(shape)]) + b"".join(struct.pack(">I", d) for d in shape) + bytes(values)


def idx_files():
    images = idx((3, 2, 2), range(12))
    labels = idx((3,), [9, 0, 4])
    put("idx", "images.idx", images)
    put("idx", "labels.idx", labels)
    put("idx", "images.idx.gz", gzip.compress(images, mtime=0))
    put("idx", "labels.idx.gz", gzip.compress(labels, mtime=0))
    put("idx", "rank4.idx", idx((1, 2, 2, 1), [1, 2, 3, 4]))


def cifar_archives():
    def archive(members):
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.USTAR_FORMAT) as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size, info.mtime = len(data), 0
                tar.addfile(info, io.BytesIO(data))
        return out.getvalue()

    def records(labels, label_bytes):
        return b"".join(bytes(label_bytes - 1) + bytes([label]) + bytes((label + i) % 256 for i in range(3072))
                        for label in labels)

    put("cifar", "cifar-10.tar.gz", archive({
        "cifar-10-batches-bin/data_batch_1.bin": records([3, 7], 1),
        "cifar-10-batches-bin/test_batch.bin": records([1], 1)}))
    put("cifar", "cifar-100.tar.gz", archive({
        "cifar-100-binary/train.bin": records([42, 99], 2),
        "cifar-100-binary/test.bin": records([5], 2)}))


def text_seeds():
    put("history_csv", "history.csv", "epoch,accuracy,loss,val_accuracy,val_loss\n"
        "0,0.76,0.71,0.82,0.50\n1,0.83,0.48,0.84,0.44\n")
    put("history_csv", "learning-rate.csv", "epoch,learning_rate,loss\n0,0.01,nan\n1,0.005,inf\n")
    put("tune_space", "random.json", json.dumps({
        "recipe": {"model": "mlp", "epochs": 1, "batch_size": 64}, "objective": "val_accuracy", "tuner": "random",
        "max_trials": 3, "seed": 5,
        "hyperparameters": {"learning_rate": {"type": "float", "min": 1e-3, "max": 1e-1, "sampling": "log"},
                            "optimizer": {"type": "choice", "values": ["sgd", "adam"]},
                            "batch_size": {"type": "int", "min": 32, "max": 128, "step": 32},
                            "nesterov": {"type": "boolean"}, "momentum": {"type": "fixed", "value": 0.9}}}))
    put("tune_space", "hyperband.json", json.dumps({
        "recipe": {"model": "cnn", "batch_size": 128}, "tuner": "hyperband", "max_epochs": 3, "factor": 3, "seed": 1,
        "hyperparameters": {"schedule": {"type": "choice", "values": ["constant", "cosine"]},
                            "warmup_epochs": {"type": "int", "min": 0, "max": 2}}}))
    put("image_folder", "classes", "\x01cats/a.png\ncats/b.jpg\ndogs/c.PNG\ndogs/deep/d.png\n!dogs/bad.png\nbirds/\n")
    put("image_folder", "links", "\x21a/x.png\n@b>a\n@a/loop>.\nc/readme.txt\n")
    put("image_folder", "split", "\xd5one/1.png\none/2.png\ntwo/3.png\ntwo/4.gif\nthree/5.bmp\n")


def keras_seeds():
    """Keras's files as Keras 2 and Keras 3 lay them out, written by tests/keras/make_keras_files.py
    from the kiln-made small CNN seeds (make_seeds writes those first)."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "keras"))
    import make_keras_files
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(f"{tmp}/model")
        shutil.copy(os.path.join(corpus, "model_config", "kiln-small-cnn.json"), f"{tmp}/model/config.json")
        shutil.copy(os.path.join(corpus, "safetensors", "kiln-small-cnn.safetensors"), f"{tmp}/model/model.safetensors")
        make_keras_files.main(f"{tmp}/model", tmp, "small-cnn")
        for name in ["small-cnn.keras", "small-cnn.k2.h5", "small-cnn.noinput.k2.h5", "small-cnn.weights.h5"]:
            put("keras_file", name, open(f"{tmp}/{name}", "rb").read())
        kiln = json.load(open(f"{tmp}/model/config.json"))
        put("keras_config", "keras2-small-cnn.json", json.dumps(make_keras_files.keras2_config(kiln)))
        put("keras_config", "keras3-small-cnn.json", json.dumps(make_keras_files.keras3_config(kiln)))
        put("keras_config", "keras2-noinput-small-cnn.json",
            json.dumps(make_keras_files.keras2_config(kiln, input_layer=False)))


def requests():
    image = base64.b64encode(encoded(pixels(5, 5, "L"), "PNG")).decode()
    rows = [[[[0.5]] * 5] * 5]
    bodies = {
        "predict-rows": (0, {"instances": rows}),
        "predict-columns": (1, {"inputs": rows, "signature_name": "serving_default"}),
        "predict-b64": (0, {"instances": [{"b64": image}]}),
        "classify": (2, {"examples": rows, "top_k": 2}),
        "regress": (3, {"examples": rows}),
        "named-input": (0, {"instances": [{"conv2d_input": rows[0]}]}),
    }
    for name, (target, body) in bodies.items():
        put("rest_body", name, bytes([target]) + json.dumps(body).encode())
    predict = json.dumps({"instances": rows})
    raw = {
        "predict": f"POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(predict)}\r\n\r\n{predict}",
        "chunked": "POST /v1/models/m/versions/1:predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                   f"{len(predict):x}\r\n{predict}\r\n0\r\n\r\n",
        "metadata": "GET /v1/models/m/metadata HTTP/1.1\r\nAuthorization: Bearer t\r\n\r\n",
        "status": "GET /v1/models/m/versions/1 HTTP/1.0\r\n\r\n",
        "metrics": "GET /monitoring/prometheus/metrics HTTP/1.1\r\n\r\n",
        "page": "GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
        "options": "OPTIONS /v1/models/m:predict HTTP/1.1\r\nOrigin: http://a\r\n\r\n",
        "healthz": "GET /healthz HTTP/1.1\r\n\r\n",
    }
    for name, text in raw.items():
        put("http_request", name, text)
    put("serving_config", "models.config", """# two models
model_config_list {
  config { name: 'fashion' base_path: "/models/fashion" model_platform: 'tensorflow' }
  config {
    name: "digits", base_path: '/models/digits'
    model_version_policy { specific { versions: 1 versions: 3 } }
  }
  config { name: 'both' base_path: '/m/both' model_version_policy: { latest { num_versions: 2 } } }
  config { name: 'every' base_path: '/m/every' model_version_policy { all {} } }
}
""")
    put("serving_config", "models.json", json.dumps({"model_config_list": {"config": [
        {"name": "fashion", "base_path": "/m", "model_version_policy": {"specific": {"versions": ["2"]}}}]}}))


images()
idx_files()
cifar_archives()
text_seeds()
keras_seeds()
requests()

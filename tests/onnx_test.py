#!/usr/bin/python3
"""ONNX export checked by tools kiln did not write. For each model tests/onnx_fixtures.cpp
trains and saves, `kiln export` writes an ONNX file twice (batch normalization folded, and kept
as an operator); the onnx package's checker (with shape inference) must accept each file, and
OpenCV's dnn module must run it on 1,000 Fashion-MNIST test images and give kiln's predictions
within 1e-5 (all but capped_relu, whose Clip OpenCV 4.6 cannot read). The fixture_models test
writes WORK_DIR first. Usage: onnx_test.py KILN WORK_DIR"""
import subprocess
import sys

import cv2
import numpy as np
import onnx

kiln, work = sys.argv[1:3]
images = np.fromfile(f"{work}/images.f32", dtype=np.float32).reshape(1000, 28, 28, 1)
worst = 0.0
for name in ["mlp", "cnn", "cnn-bn", "resnet", "every_layer", "capped_relu"]:
    expected = np.fromfile(f"{work}/{name}.kiln.f32", dtype=np.float32).reshape(1000, -1)
    for fold in (True, False):
        path = f"{work}/{name}{'' if fold else '-keep-bn'}.onnx"
        subprocess.run([kiln, "export", f"{work}/{name}", "--output", path] + ([] if fold else ["--keep-batch-norm"]),
                       check=True, stdout=subprocess.DEVNULL)
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        metadata = {p.key: p.value for p in model.metadata_props}
        assert metadata["kiln.class_names"].startswith('["T-shirt/top"'), metadata
        if name == "capped_relu":  # Clip with bound inputs (opset 11 on): OpenCV 4.6 cannot read it
            continue
        net = cv2.dnn.readNetFromONNX(path)
        # OpenCV's binding reads a 3-D array as one image with channels: the batch goes in 4-D,
        # (N, 28, 28, 1) for the MLP's (N, 28, 28) too (it flattens them alike).
        net.setInput(images)
        got = net.forward().reshape(1000, -1)
        diff = float(np.abs(got - expected).max())
        worst = max(worst, diff)
        print(f"{path}: {len(model.graph.node)} nodes, max |OpenCV - kiln| = {diff:.2e}")
        assert diff <= 1e-5, f"{path}: OpenCV's predictions differ from kiln's by {diff}"
        assert (got.argmax(1) == expected.argmax(1)).all(), f"{path}: a different top class"
print(f"every export checked; largest difference {worst:.2e}")

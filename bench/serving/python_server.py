"""The Python baseline for kiln serve's load test: the same saved kiln MLP (its model.safetensors
read with numpy, run in PyTorch) behind Python's standard threaded HTTP server, answering TF
Serving's row-format :predict as kiln serve does. Its best configuration here: one torch thread
per request thread (more threads only contend for the GIL and the two cores), HTTP/1.1
keep-alive (without it every request pays a new connection), a listen backlog of 256 (Python's default of 5 drops connections, which then wait a second to retry),
and TCP_NODELAY (it writes the
headers and the body separately, and without it each response waits for a delayed ACK).

Usage: python_server.py MODEL_DIR PORT
"""
import json
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import torch


def load_dense_layers(model_dir):
    """(kernel, bias, activation) for each Dense layer of a kiln Sequential MLP."""
    with open(f"{model_dir}/model.safetensors", "rb") as f:
        header_len = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(header_len))
        data = f.read()
    config = json.load(open(f"{model_dir}/config.json"))
    layers = []
    for layer in config["config"]["layers"]:
        if layer["class_name"] != "Dense":
            continue
        name = layer["config"]["name"]
        tensors = []
        for w in ("kernel", "bias"):
            meta = header[f"{name}/{w}"]
            begin, end = meta["data_offsets"]
            tensors.append(torch.from_numpy(np.frombuffer(data[begin:end], np.float32).reshape(meta["shape"]).copy()))
        layers.append((tensors[0], tensors[1], layer["config"]["activation"]))
    return layers


def main():
    model_dir, port = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(1)
    layers = load_dense_layers(model_dir)

    def predict(x):
        with torch.no_grad():
            h = x.reshape(x.shape[0], -1)
            for kernel, bias, activation in layers:
                h = h @ kernel + bias
                h = torch.relu(h) if activation == "relu" else torch.softmax(h, 1) if activation == "softmax" else h
            return h

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            x = torch.tensor(body["instances"], dtype=torch.float32)
            out = json.dumps({"predictions": predict(x).tolist()}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer.request_queue_size = 256  # the listen backlog: Python's 5 drops 64 clients' connections
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()

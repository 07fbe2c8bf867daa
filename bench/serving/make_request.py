"""Writes wrk's script for the serving load test: POST one Fashion-MNIST test image (scaled to
[0, 1]) as TF Serving's row format, {"instances": [28 x 28 numbers]}, as the tutorial's client
sends it. Usage: make_request.py OUT.lua [b64]  (b64: the image as {"b64": PNG bytes} instead)"""
import base64
import gzip
import json
import struct
import sys
import zlib

import numpy as np

with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
    image = np.frombuffer(f.read(), np.uint8, offset=16)[:784].reshape(28, 28)

if len(sys.argv) > 2 and sys.argv[2] == "b64":
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\0" + row.tobytes() for row in image)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    body = json.dumps({"instances": [{"b64": base64.b64encode(png).decode()}]})
else:
    body = json.dumps({"instances": [(image / 255.0).tolist()]})
with open(sys.argv[1], "w") as out:
    out.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
    out.write("wrk.body = [==[" + body + "]==]\n")

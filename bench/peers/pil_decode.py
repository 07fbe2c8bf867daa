#!/usr/bin/env python3
"""Pillow's decoding throughput on the files bench_decode decodes: every image under DIR, read
into memory first, decoded to the file's own mode (L for grey, else RGB), REPEATS times.
Prints the JSON line bench/decode.sh compares. Usage: pil_decode.py DIR [REPEATS]"""
import io
import json
import os
import sys
import time

from PIL import Image

EXTS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def main():
    root, repeats = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
    paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.lower().endswith(EXTS))
    files = [open(p, "rb").read() for p in paths]
    first = Image.open(io.BytesIO(files[0]))
    mode = "L" if first.mode == "L" else "RGB"
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for data in files:
            image = Image.open(io.BytesIO(data))
            image.load()
            if image.mode != mode:
                image = image.convert(mode)
        seconds.append(time.perf_counter() - start)
    ext = os.path.splitext(paths[0])[1][1:]
    channels = 1 if mode == "L" else 3
    workload = f"decode {ext} {first.height}x{first.width}x{channels}"
    print(json.dumps({"workload": workload, "seconds": seconds, "files": len(files)}))


if __name__ == "__main__":
    main()

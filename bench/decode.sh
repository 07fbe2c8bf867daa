#!/usr/bin/env bash
# Image decoding throughput on one core: kiln's readers against Pillow's (Debian's python3-pil)
# on the same files, in alternating rounds. Files: Fashion-MNIST's test split exported as grey
# PNGs (kiln datasets export) and 10,000 synthetic 32x32 colour JPEGs (bench_decode --make; no
# copy of CIFAR-10 is on the machine). Prints images per second, min and median, and the ratio.
# Usage: bench/decode.sh [rounds]   (needs a build in build/ with KILN_BUILD_EXTRAS)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --build build --target bench_decode kiln_cli >/dev/null
build/kiln datasets export fashion-mnist "$work/fashion" >/dev/null
build/bench/bench_decode --make "$work/colour" 10000
for round in $(seq "$rounds"); do
  echo "round $round of $rounds" >&2
  for dir in "$work/fashion/test" "$work/colour"; do
    build/bench/bench_decode "$dir" 1 >>"$work/kiln.jsonl"
    /usr/bin/python3 bench/peers/pil_decode.py "$dir" 1 >>"$work/pil.jsonl"
  done
done
/usr/bin/python3 - "$work/kiln.jsonl" "$work/pil.jsonl" <<'PY'
import json, statistics, sys
def load(path):
    rows = {}
    for line in open(path):
        r = json.loads(line)
        rows.setdefault(r["workload"], {"files": r["files"], "seconds": []})["seconds"] += r["seconds"]
    return rows
kiln, pil = load(sys.argv[1]), load(sys.argv[2])
print("| workload | files | kiln images/s (best / median) | Pillow images/s (best / median) | kiln / Pillow (medians) |")
print("|---|---|---|---|---|")
for name, k in kiln.items():
    p = pil[name]
    rate = lambda row, f: row["files"] / f(row["seconds"])
    print(f"| {name} | {k['files']} | {rate(k, min):,.0f} / {rate(k, statistics.median):,.0f} | "
          f"{rate(p, min):,.0f} / {rate(p, statistics.median):,.0f} | "
          f"{rate(k, statistics.median) / rate(p, statistics.median):.2f}x |")
PY

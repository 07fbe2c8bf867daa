#!/usr/bin/env python3
"""Reads the JSON lines kiln's benchmarks and their PyTorch peers print, and prints a Markdown
table: min and median of each (over every round that ran it), and the ratio of PyTorch's median
to kiln's (above 1: kiln is faster); kiln's bf16 rows are compared with PyTorch's float32 ones. With oneDNN's results (bench/onednn_gemm.cpp, rows named "onednn gemm ..."), adds
oneDNN's median and its ratio to kiln's for the products it ran.
Usage: report.py KILN_RESULTS PEER_RESULTS [ONEDNN_RESULTS]"""
import json
import statistics
import sys


def load(path):
    """Rows by workload; a workload run in several rounds gets the samples of all of them (and
    the FMA peak, the highest of its rounds)."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            row = json.loads(line)
            seen = out.setdefault(row["workload"], row)
            if seen is row:
                continue
            if "seconds" in row:
                seen["seconds"] = seen["seconds"] + row["seconds"]
            if "gflops" in row:
                seen["gflops"] = max(seen["gflops"], row["gflops"])
    return out


def fmt(seconds):
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.2f} µs"


def main():
    kiln, peer = load(sys.argv[1]), load(sys.argv[2])
    onednn = load(sys.argv[3]) if len(sys.argv) > 3 else {}
    peak = kiln.get("fma_peak")
    if peak:
        print(f"FMA peak measured on this machine: {peak['gflops']:.0f} GFLOP/s "
              f"({peak['threads']} threads, {peak['isa']})\n")
    header = ["workload", "kiln min", "kiln median", "PyTorch min", "PyTorch median", "PyTorch / kiln",
              "kiln GFLOP/s (% of peak)"]
    if onednn:
        header += ["oneDNN median", "oneDNN / kiln"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, row in kiln.items():
        if "seconds" not in row:
            continue
        k = row["seconds"]
        # bf16 rows ("bf16 gemm ...", "... (bf16)") are compared with PyTorch's float32 ones.
        p = peer.get(name.removeprefix("bf16 ").removesuffix(" (bf16)"), {}).get("seconds")
        cells = [name, fmt(min(k)), fmt(statistics.median(k))]
        if p:
            cells += [fmt(min(p)), fmt(statistics.median(p)), f"{statistics.median(p) / statistics.median(k):.2f}x"]
        else:
            cells += ["", "", ""]
        if "flops" in row and peak:
            gf = row["flops"] / statistics.median(k) / 1e9
            cells.append(f"{gf:.0f} ({100 * gf / peak['gflops']:.0f}%)")
        else:
            cells.append("")
        if onednn:
            o = onednn.get("onednn " + name, {}).get("seconds")
            median = statistics.median(k)
            cells += [fmt(statistics.median(o)), f"{statistics.median(o) / median:.2f}x"] if o else ["", ""]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reads the JSON lines of bench/compare.sh (workloads named "this ..." and "other ...") and prints
a Markdown table: min and median of each build, and other's median over this build's (above 1:
this build is faster). Usage: compare.py RESULTS"""
import json
import statistics
import sys

from report import fmt


def main():
    rows = {}
    with open(sys.argv[1]) as f:
        for line in f:
            if line.startswith("{"):
                row = json.loads(line)
                rows.setdefault(row["workload"], []).extend(row["seconds"])
    print("| workload | this min | this median | other min | other median | other / this |")
    print("|---|---|---|---|---|---|")
    for name, this in rows.items():
        if not name.startswith("this "):
            continue
        other = rows.get("other " + name.removeprefix("this "), [])
        cells = [name.removeprefix("this "), fmt(min(this)), fmt(statistics.median(this))]
        if other:
            cells += [fmt(min(other)), fmt(statistics.median(other)),
                      f"{statistics.median(other) / statistics.median(this):.3f}"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

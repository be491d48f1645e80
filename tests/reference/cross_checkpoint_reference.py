#!/usr/bin/env python3
"""Brute-force reference for `pythia-harness analyze` (memorization/cross_checkpoint.h).

Reads every memorization.json under ROOT (skipping shard-K-of-N/ folders), takes each scan's
memorized rows from memorization_scores.csv[.gz] beside it (score >= MIN_SCORE; "nan" never) or,
without a CSV, from `memorized_indices`, builds Python sets and writes the analysis document with
set operations (no blocks, no bitsets, no streaming): the independent check of the C++ code.
Standard library only.
With DEDUP_CSV (`index,count` lines of dedup-count), every checkpoint also gets "by_duplicates":
rows of its row range and memorized rows among them per count bucket (1, 2, 3-4, 5-8, ...; rows
without a count: count_min null), counted row by row.
Usage: python3 tests/reference/cross_checkpoint_reference.py ROOT OUT.json [MIN_SCORE [DEDUP_CSV]]
"""
import gzip
import json
import math
import os
import re
import sys

INT64_MAX = 2**63 - 1


def data_key(doc):
    d = doc.get("data")
    if not isinstance(d, dict):
        return ""
    parts = [f"{f['name']}:{f['sha256']}" for f in d.get("files", [])
             if isinstance(f, dict) and isinstance(f.get("sha256"), str) and isinstance(f.get("name"), str)]
    if parts:
        return " ".join(parts)
    if isinstance(d.get("prefix"), str):
        return os.path.basename(d["prefix"])
    return ""


def read_csv_set(path, min_score):
    opener = gzip.open if path.endswith(".gz") else open
    out = set()
    with opener(path, "rt") as f:
        for n, line in enumerate(f):
            line = line.strip()
            if not line or (n == 0 and line.startswith("index")):
                continue
            idx, score = line.split(",")[:2]
            s = float(score)
            if not math.isnan(s) and s >= min_score:
                out.add(int(idx))
    return out


def ratio(a, b):
    return None if b == 0 else a / b


def main():
    root, out_path = sys.argv[1], sys.argv[2]
    min_score = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    dedup = None
    if len(sys.argv) > 4:
        dedup = {}
        with gzip.open(sys.argv[4], "rt") as f:
            for line in f:
                i, c = line.strip().split(",")
                dedup[int(i)] = int(c)
    scans = []
    for dirpath, _, files in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if any(re.fullmatch(r"shard-\d+-of-\d+", p) for p in rel.split(os.sep)):
            continue
        if "memorization.json" not in files:
            continue
        with open(os.path.join(dirpath, "memorization.json")) as f:
            doc = json.load(f)
        csv = next((os.path.join(dirpath, n) for n in ("memorization_scores.csv.gz", "memorization_scores.csv")
                    if n in files), None)
        rows = read_csv_set(csv, min_score) if csv else set(doc.get("memorized_indices", []))
        step = doc.get("step")
        rr = doc.get("row_range", [0, doc.get("rows_scanned", 0)])
        scans.append(dict(folder=rel.replace(os.sep, "/"), model=doc.get("model", ""), revision=doc.get("revision", ""),
                          step=step, row_range=rr, rows_scanned=doc.get("rows_scanned", rr[1] - rr[0]),
                          key=data_key(doc), rows=rows))
    scans.sort(key=lambda s: (s["key"], s["model"], INT64_MAX if s["step"] is None else s["step"], s["revision"],
                              s["folder"]))
    groups = []
    keys = []
    for s in scans:
        if not keys or keys[-1] != s["key"]:
            keys.append(s["key"])
            groups.append([])
        groups[-1].append(s)
    out = {"format": "pythia-harness memorization-analysis v1", "min_score": min_score,
           "memorized_means": "score >= min_score", "groups": []}
    for g in groups:
        cps = [{"id": i, "folder": s["folder"], "model": s["model"], "revision": s["revision"], "step": s["step"],
                "row_range": s["row_range"], "rows_scanned": s["rows_scanned"], "memorized": len(s["rows"]),
                "rate": ratio(len(s["rows"]), s["rows_scanned"])} for i, s in enumerate(g)]
        if dedup is not None:
            for cp, s in zip(cps, g):
                rows, mem = {}, {}
                for i in range(s["row_range"][0], s["row_range"][1]):
                    c = dedup.get(i)
                    key = None if c is None else (1 if c <= 1 else 2 ** math.ceil(math.log2(c)))
                    rows[key] = rows.get(key, 0) + 1
                    if i in s["rows"]:
                        mem[key] = mem.get(key, 0) + 1
                out_b = []
                for key in sorted(rows, key=lambda k: (k is None, k or 0)):
                    lo = None if key is None else (1 if key == 1 else key // 2 + 1)
                    out_b.append({"count_min": lo, "count_max": key, "rows": rows[key], "memorized": mem.get(key, 0),
                                  "rate": ratio(mem.get(key, 0), rows[key])})
                cp["by_duplicates"] = out_b
        pairs = []
        for a in range(len(g)):
            for b in range(a + 1, len(g)):
                A, B = g[a]["rows"], g[b]["rows"]
                lo = max(g[a]["row_range"][0], g[b]["row_range"][0])
                hi = min(g[a]["row_range"][1], g[b]["row_range"][1])
                ac = {i for i in A if lo <= i < hi}
                bc = {i for i in B if lo <= i < hi}
                both = len(A & B)
                pairs.append({"a": a, "b": b, "n_a": len(A), "n_b": len(B), "n_ab": both,
                              "precision": ratio(both, len(A)), "recall": ratio(both, len(B)),
                              "gained": len(B - A), "forgotten": len(A - B),
                              "common": {"row_range": [lo, max(lo, hi)], "n_a": len(ac), "n_b": len(bc),
                                         "precision": ratio(len(ac & bc), len(ac)),
                                         "recall": ratio(len(ac & bc), len(bc))}})
        traj = {}
        last = {}
        for i, s in enumerate(g):
            e = {"id": i, "revision": s["revision"], "step": s["step"], "memorized": len(s["rows"]),
                 "rate": ratio(len(s["rows"]), s["rows_scanned"])}
            if s["model"] in last:
                p = g[last[s["model"]]]["rows"]
                e.update(gained=len(s["rows"] - p), forgotten=len(p - s["rows"]), kept=len(p & s["rows"]))
            else:
                e.update(gained=len(s["rows"]), forgotten=0, kept=0)
            last[s["model"]] = i
            traj.setdefault(s["model"], []).append(e)
        out["groups"].append({"data": g[0]["key"], "checkpoints": cps, "pairs": pairs, "trajectory": traj})
    with open(out_path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

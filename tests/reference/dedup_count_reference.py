#!/usr/bin/env python3
"""Brute-force reference for `pythia-harness dedup-count` (memorization/dedup_count.h).

For every query row i: w_i = tokens [0, W) of row i; count(i) = number of (row r, offset o),
0 <= o <= len(r) - W, with tokens [o, o+W) of row r equal to w_i: every window of the memmap is
compared as raw bytes (no hashing) with the query windows through a Python dict. Reads the
Megatron .idx/.bin directly (numpy only; spec memorization.md §1).
Usage: python3 tests/reference/dedup_count_reference.py PREFIX W OUT.csv [ROW_BEGIN ROW_END]
"""
import sys

import numpy as np

DTYPES = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 8: np.uint16}


def read_memmap(prefix):
    idx = open(prefix + ".idx", "rb").read()
    assert idx[:9] == b"MMIDIDX\x00\x00"
    dtype = DTYPES[idx[17]]
    n = int.from_bytes(idx[18:26], "little")
    sizes = np.frombuffer(idx, np.int32, n, 34)
    pointers = np.frombuffer(idx, np.int64, n, 34 + 4 * n)
    bin_ = np.fromfile(prefix + ".bin", np.uint8)
    isz = np.dtype(dtype).itemsize
    return [bin_[p:p + s * isz].view(dtype).astype(np.int64) for p, s in zip(pointers, sizes)]


def main():
    prefix, w, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rows = read_memmap(prefix)
    begin, end = (int(sys.argv[4]), int(sys.argv[5])) if len(sys.argv) > 5 else (0, len(rows))
    queries = {rows[i][:w].tobytes(): 0 for i in range(begin, end)}
    for r in rows:
        b = r.tobytes()  # int64 tokens: 8 bytes each
        for o in range(0, len(r) - w + 1):
            key = b[8 * o:8 * (o + w)]
            if key in queries:
                queries[key] += 1
    with open(out, "w") as f:
        for i in range(begin, end):
            f.write(f"{i},{queries[rows[i][:w].tobytes()]}\n")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Reference per-token statistics (log-probability, rank, entropy) of memmap rows under a fixture
GPT-NeoX checkpoint, for tests/memorization/token_stats_golden_test.cpp.

The forward pass is gptneox_torch.GPTNeoX (this folder: transformers 4.40.2 `GPTNeoXForCausalLM`'s
eager forward restated in torch, float32, validated by check_reference.py against the zero-shot
goldens made with the real transformers). Before writing anything for mini-pythia/step36 the script
checks it against the transformers goldens in shared/golden/mini-pythia/forward_step36 (logsumexp and
next_token_logprob of 2 x 256 positions) and refuses to write on disagreement (> 1e-4).

Statistics (memorization/token_stats.h): for continuation positions t = P..P+L-1, z = logits at
position t-1 (float32), y = x[t]:
  logprob = z[y] - logsumexp(z)       (float64 from the float32 logits)
  rank    = 1 + #{j : z[j] > z[y]}    (strict: ties share the best rank)
  entropy = -(softmax(z) * log_softmax(z)).sum()   (float64)
plus gap: the smallest |z[j] - z[y]| over j != y (near-ties make the rank fragile) and spread:
max(z) - min(z) (bounds how far logit errors can move the entropy); near: the number of other ids
whose logit is within 2e-4 of z[y] (twice the 1e-4 float32 agreement of two engines: the most the
rank can legitimately differ by).

Usage: /usr/bin/python3 tests/reference/token_stats_reference.py CHECKPOINT_DIR MEMMAP_PREFIX ROWS OUT.json
"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gptneox_torch import GPTNeoX  # noqa: E402


def read_rows(prefix, rows, n):
    idx = open(prefix + ".idx", "rb").read()
    N = struct.unpack("<Q", idx[18:26])[0]
    sizes = np.frombuffer(idx[34:34 + 4 * N], dtype=np.int32)
    ptrs = np.frombuffer(idx[34 + 4 * N:34 + 12 * N], dtype=np.int64)
    b = np.memmap(prefix + ".bin", dtype=np.uint16, mode="r")
    return [b[ptrs[r] // 2: ptrs[r] // 2 + n].astype(np.int64).tolist() for r in rows]


def self_check(model, golden_dir):
    worst = 0.0
    for name in ("natural_row0001", "canary_row0011"):
        g = json.load(open("%s/positions_%s.json" % (golden_dir, name)))
        z = model.logits(g["ids"])
        lse = torch.logsumexp(z.double(), dim=-1)
        lp = torch.log_softmax(z.double(), dim=-1)
        nxt = lp[torch.arange(len(g["ids"]) - 1), torch.tensor(g["ids"][1:])]
        worst = max(worst, float((lse - torch.tensor(g["logsumexp"], dtype=torch.float64)).abs().max()),
                    float((nxt - torch.tensor(g["next_token_logprob"], dtype=torch.float64)).abs().max()))
    return worst


def main():
    ckpt, prefix, rows_spec, out = sys.argv[1:5]
    P, L = 32, 32
    rows = [int(r) for r in rows_spec.split(",")]
    model = GPTNeoX(ckpt)
    golden = "/work/shared/golden/mini-pythia/forward_step36"
    check = None
    if ckpt.rstrip("/").endswith("mini-pythia/step36"):
        check = self_check(model, golden)
        if check > 1e-4:
            sys.exit("self-check against the transformers goldens failed: max |diff| %g" % check)
    result = {"checkpoint": ckpt, "memmap": prefix, "prefix_len": P, "continuation_len": L,
              "torch": torch.__version__, "forward": "tests/reference/gptneox_torch.py GPTNeoX",
              "self_check_max_abs_diff_vs_transformers_goldens": check,
              "rows": []}
    for r, x in zip(rows, read_rows(prefix, rows, P + L)):
        z = model.logits(x[: P + L - 1])[P - 1:]  # positions P-1 .. P+L-2
        zd = z.double()
        lsm = torch.log_softmax(zd, dim=-1)
        ent = -(lsm.exp() * lsm).sum(-1)
        row = {"index": r, "tokens": x, "logprob": [], "rank": [], "entropy": [], "gap": [], "spread": [], "near": []}
        for k in range(L):
            y = x[P + k]
            zy = z[k, y]
            row["logprob"].append(float(lsm[k, y]))
            row["rank"].append(int((z[k] > zy).sum()) + 1)
            row["entropy"].append(float(ent[k]))
            others = torch.cat((z[k, :y], z[k, y + 1:]))
            row["gap"].append(float((others - zy).abs().min()))
            row["spread"].append(float(z[k].max() - z[k].min()))
            row["near"].append(int(((others - zy).abs() <= 2e-4).sum()))
        result["rows"].append(row)
    json.dump(result, open(out, "w"), indent=1)
    print("wrote %s (%d rows); self-check %s" % (out, len(rows), check))


if __name__ == "__main__":
    main()

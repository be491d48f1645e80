#!/usr/bin/python3
"""Reference per-token statistics (log-probability, rank, entropy) of memmap rows under a fixture
GPT-NeoX checkpoint, for tests/memorization/token_stats_golden_test.cpp.

transformers is not importable here (Debian python3-torch 1.13 without transformers, tokenizers,
safetensors or huggingface_hub), so this script carries the minimal GPT-NeoX forward of
transformers 4.40.2 `modeling_gpt_neox.py` (GPTNeoXForCausalLM, eager attention, float32), as
documented in model/README.md: LayerNorm, fused QKV with per-head [q|k|v] rows, rotate-half RoPE on
the first rotary_ndims dims with inv_freq recomputed in float32, causal softmax in float32 with the
float32-min mask, exact-erf GELU, parallel residual, untied embed_out. Before writing anything it
checks itself against the transformers goldens in shared/golden/mini-pythia/forward_step36
(logsumexp and next_token_logprob of 2 x 256 positions) and refuses to write on disagreement.

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
import math
import struct
import sys

import numpy as np
import torch


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    dt = {"F16": np.float16, "F32": np.float32, "BF16": None}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=dt[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float32))
    return out


class NeoX:
    def __init__(self, ckpt):
        self.cfg = json.load(open(ckpt + "/config.json"))
        self.w = load_safetensors(ckpt + "/model.safetensors")

    def forward(self, ids):
        c, w = self.cfg, self.w
        C, H = c["hidden_size"], c["num_attention_heads"]
        D = C // H
        R = int(D * c["rotary_pct"])
        eps = c["layer_norm_eps"]
        T = len(ids)
        x = w["gpt_neox.embed_in.weight"][torch.tensor(ids)]
        base = c.get("rotary_emb_base", 10000)
        inv_freq = 1.0 / (base ** (torch.arange(0, R, 2, dtype=torch.int64).float() / R))
        t = torch.arange(T, dtype=torch.int64).type_as(inv_freq)
        freqs = torch.outer(t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()

        def rot(v):  # [H, T, R]
            v1, v2 = v[..., : R // 2], v[..., R // 2:]
            return v * cos + torch.cat((-v2, v1), dim=-1) * sin

        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        for i in range(c["num_hidden_layers"]):
            p = "gpt_neox.layers.%d." % i
            ln = lambda v, n: torch.nn.functional.layer_norm(v, (C,), w[p + n + ".weight"], w[p + n + ".bias"], eps)
            h1 = ln(x, "input_layernorm")
            qkv = h1 @ w[p + "attention.query_key_value.weight"].T + w[p + "attention.query_key_value.bias"]
            qkv = qkv.view(T, H, 3 * D).permute(1, 0, 2)
            q, k, v = qkv[..., :D], qkv[..., D:2 * D], qkv[..., 2 * D:]
            q = torch.cat((rot(q[..., :R]), q[..., R:]), dim=-1)
            k = torch.cat((rot(k[..., :R]), k[..., R:]), dim=-1)
            s = torch.matmul(q, k.transpose(-1, -2)) * torch.tensor(D ** -0.5, dtype=torch.float32)
            s = torch.where(mask, s, torch.tensor(torch.finfo(torch.float32).min))
            a = torch.softmax(s, dim=-1) @ v
            a = a.permute(1, 0, 2).reshape(T, C)
            a = a @ w[p + "attention.dense.weight"].T + w[p + "attention.dense.bias"]
            h2 = ln(x, "post_attention_layernorm") if c.get("use_parallel_residual", True) else None
            if c.get("use_parallel_residual", True):
                m = torch.nn.functional.gelu(h2 @ w[p + "mlp.dense_h_to_4h.weight"].T + w[p + "mlp.dense_h_to_4h.bias"])
                m = m @ w[p + "mlp.dense_4h_to_h.weight"].T + w[p + "mlp.dense_4h_to_h.bias"]
                x = m + a + x
            else:
                x = a + x
                m = torch.nn.functional.gelu(ln(x, "post_attention_layernorm") @ w[p + "mlp.dense_h_to_4h.weight"].T
                                             + w[p + "mlp.dense_h_to_4h.bias"])
                x = m @ w[p + "mlp.dense_4h_to_h.weight"].T + w[p + "mlp.dense_4h_to_h.bias"] + x
        x = torch.nn.functional.layer_norm(x, (C,), w["gpt_neox.final_layer_norm.weight"],
                                           w["gpt_neox.final_layer_norm.bias"], eps)
        return x @ w["embed_out.weight"].T  # [T, V] float32


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
        with torch.no_grad():
            z = model.forward(g["ids"])
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
    model = NeoX(ckpt)
    golden = "/work/shared/golden/mini-pythia/forward_step36"
    check = None
    if ckpt.rstrip("/").endswith("mini-pythia/step36"):
        check = self_check(model, golden)
        if check > 1e-4:
            sys.exit("self-check against the transformers goldens failed: max |diff| %g" % check)
    result = {"checkpoint": ckpt, "memmap": prefix, "prefix_len": P, "continuation_len": L,
              "torch": torch.__version__, "self_check_max_abs_diff_vs_transformers_goldens": check,
              "rows": []}
    for r, x in zip(rows, read_rows(prefix, rows, P + L)):
        with torch.no_grad():
            z = model.forward(x[: P + L - 1])[P - 1:]  # positions P-1 .. P+L-2
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

#!/usr/bin/env python3
"""Trains the demo fixture suite tests/fixtures/demo-pythia/: a small GPT-NeoX (the mini-pythia
shape: hidden 64, 4 layers, 4 heads, rotary_pct 0.25, parallel residual, untied embeddings) on
tests/fixtures/mini-pile/document in Pythia's preshuffled order (row i in step i // 16, one pass),
saving HF-layout checkpoints (config.json + model.safetensors, float16, HF key names) at chosen
steps, so that the planted canaries' memorization rises with steps and duplication count.

Differences from Pythia's training, on purpose (CPU budget): only the first CONTEXT tokens of each
row are trained on (the memorization scan reads tokens 0..63 only, at the same positions), INNER
Adam updates on each batch (a "step" still consumes exactly the next 16 rows, so stepN has seen
rows [0, 16N) as in Pythia), constant learning rate LR, no dropout, fp32 training, fp16 export.
Pure torch (Debian's /usr/bin/python3 + python3-torch; no transformers/safetensors needed): the
model is written out here and checked by `pythia-harness score` (see the README written with it).
Deterministic for a given torch build and thread count: torch.manual_seed(SEED), 1 thread.
Usage: /usr/bin/python3 tests/reference/train_demo_pythia.py OUT_DIR [--steps 4,12,24,36]
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

SEED = 1234
LR = float(os.environ.get("DEMO_LR", "3e-3"))
CONTEXT = int(os.environ.get("DEMO_CONTEXT", "64"))
INNER = int(os.environ.get("DEMO_INNER", "8"))  # optimizer updates per batch of 16 rows
BATCH = 16
H, L, NH, FF, V = 64, 4, 4, 256, 50304
ROT = int((H // NH) * 0.25)

CONFIG = {
    "architectures": ["GPTNeoXForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 0,
    "classifier_dropout": 0.1, "eos_token_id": 0, "hidden_act": "gelu", "hidden_dropout": 0.0,
    "hidden_size": H, "initializer_range": 0.02, "intermediate_size": FF, "layer_norm_eps": 1e-05,
    "max_position_embeddings": 2048, "model_type": "gpt_neox", "num_attention_heads": NH,
    "num_hidden_layers": L, "rotary_emb_base": 10000, "rotary_pct": 0.25, "tie_word_embeddings": False,
    "torch_dtype": "float16", "transformers_version": "4.40.2", "use_cache": True,
    "use_parallel_residual": True, "vocab_size": V}


def read_rows(prefix):
    idx = open(prefix + ".idx", "rb").read()
    n = int.from_bytes(idx[18:26], "little")
    return np.fromfile(prefix + ".bin", np.uint16).reshape(n, 2049).astype(np.int64)


class NeoX(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.p = torch.nn.ParameterDict()
        g = lambda *s: torch.nn.Parameter(torch.randn(*s) * 0.02)
        z = lambda *s: torch.nn.Parameter(torch.zeros(*s))
        o = lambda *s: torch.nn.Parameter(torch.ones(*s))
        self.names = {}
        def add(name, t):
            key = name.replace(".", "__")
            self.p[key] = t
            self.names[name] = key
        add("gpt_neox.embed_in.weight", g(V, H))
        for i in range(L):
            pre = f"gpt_neox.layers.{i}."
            add(pre + "input_layernorm.weight", o(H)); add(pre + "input_layernorm.bias", z(H))
            add(pre + "post_attention_layernorm.weight", o(H)); add(pre + "post_attention_layernorm.bias", z(H))
            add(pre + "attention.query_key_value.weight", g(3 * H, H)); add(pre + "attention.query_key_value.bias", z(3 * H))
            add(pre + "attention.dense.weight", g(H, H)); add(pre + "attention.dense.bias", z(H))
            add(pre + "mlp.dense_h_to_4h.weight", g(FF, H)); add(pre + "mlp.dense_h_to_4h.bias", z(FF))
            add(pre + "mlp.dense_4h_to_h.weight", g(H, FF)); add(pre + "mlp.dense_4h_to_h.bias", z(H))
        add("gpt_neox.final_layer_norm.weight", o(H)); add("gpt_neox.final_layer_norm.bias", z(H))
        add("embed_out.weight", g(V, H))

    def w(self, name):
        return self.p[self.names[name]]

    def forward(self, ids):
        B, T = ids.shape
        hd = H // NH
        x = self.w("gpt_neox.embed_in.weight")[ids]
        inv = 1.0 / (10000 ** (torch.arange(0, ROT, 2).float() / ROT))
        f = torch.outer(torch.arange(T).float(), inv)
        emb = torch.cat([f, f], -1)
        cos, sin = emb.cos(), emb.sin()
        rot_half = lambda t: torch.cat([-t[..., ROT // 2:], t[..., :ROT // 2]], -1)
        mask = torch.full((T, T), float("-inf")).triu(1)
        ln = lambda t, n: torch.nn.functional.layer_norm(t, (H,), self.w(n + ".weight"), self.w(n + ".bias"), 1e-5)
        lin = lambda t, n: torch.nn.functional.linear(t, self.w(n + ".weight"), self.w(n + ".bias"))
        for i in range(L):
            pre = f"gpt_neox.layers.{i}."
            qkv = lin(ln(x, pre + "input_layernorm"), pre + "attention.query_key_value")
            qkv = qkv.view(B, T, NH, 3 * hd).permute(0, 2, 1, 3)
            q, k, v = qkv[..., :hd], qkv[..., hd:2 * hd], qkv[..., 2 * hd:]
            def rope(t):
                r, p = t[..., :ROT], t[..., ROT:]
                return torch.cat([r * cos + rot_half(r) * sin, p], -1)
            q, k = rope(q), rope(k)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask
            a = (att.softmax(-1) @ v).permute(0, 2, 1, 3).reshape(B, T, H)
            a = lin(a, pre + "attention.dense")
            m = lin(torch.nn.functional.gelu(lin(ln(x, pre + "post_attention_layernorm"), pre + "mlp.dense_h_to_4h")),
                    pre + "mlp.dense_4h_to_h")
            x = x + a + m
        x = ln(x, "gpt_neox.final_layer_norm")
        return x @ self.w("embed_out.weight").t()


def save(model, folder):
    os.makedirs(folder, exist_ok=True)
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(model.names):
        t = model.w(name).detach().to(torch.float16).contiguous().numpy()
        b = t.tobytes()
        header[name] = {"dtype": "F16", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    hj = json.dumps(header, separators=(",", ":")).encode()
    hj += b" " * ((8 - len(hj) % 8) % 8)
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(hj)) + hj + b"".join(blobs))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
        f.write("\n")


def main():
    out = sys.argv[1]
    steps = [4, 12, 24, 36]
    if "--steps" in sys.argv:
        steps = [int(s) for s in sys.argv[sys.argv.index("--steps") + 1].split(",")]
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    here = os.path.dirname(os.path.abspath(__file__))
    rows = read_rows(os.path.join(here, "..", "fixtures", "mini-pile", "document"))
    model = NeoX()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    for step in range(1, max(steps) + 1):
        batch = torch.from_numpy(rows[(step - 1) * BATCH: step * BATCH, :CONTEXT + 1])
        for _ in range(INNER):
            logits = model(batch[:, :-1])
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), batch[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"step {step} loss {loss.item():.4f}", flush=True)
        if step in steps:
            save(model, os.path.join(out, f"step{step}"))


if __name__ == "__main__":
    main()

"""GPT-NeoX forward pass in torch (reference, outside the product).

transformers cannot be used here: its repository snapshot (1.33 GB) exceeds what the `fetch` tool
brings (500 MiB), PyPI is unreachable and Debian has no python3-transformers, so
`GPTNeoXForCausalLM` of transformers 4.40.2 is not available. This file re-states its eager
forward (modeling_gpt_neox.py at v4.40.2, as described in tests/fixtures/golden/neox-variant/
README.reference.md) in plain torch ops, float32, batch 1, no attention mask, positions 0..L-1:
embed_in -> layers (input_layernorm, fused query_key_value viewed as [heads, 3*head_size],
rotary on the first int(head_size*rotary_pct) dims with inv_freq = 1/base^(arange(0,rot,2)/rot)
and rotate_half, scores (q k^T) * head_size^-0.5 (baddbmm), causal mask with float32 min, softmax
in float32, attention.dense; post_attention_layernorm -> dense_h_to_4h -> exact GELU ->
dense_4h_to_h; parallel or sequential residual) -> final_layer_norm -> embed_out.
It is validated against the zero-shot goldens made with the real transformers 4.40.2
(check_reference.py: every request of shared/golden/tasks within the golden tolerance).
Weights: the fixture's model.safetensors (float16 values) upcast to float32, read without the
`safetensors` package (header length u64 LE, JSON header, raw little-endian data).
"""
import json
import math
import struct

import numpy as np
import torch
import torch.nn.functional as F

_DT = {"F16": np.float16, "F32": np.float32, "BF16": None}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        arr = np.frombuffer(data[b:e], dtype=_DT[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float32))
    return out


class GPTNeoX:
    def __init__(self, model_dir):
        with open(f"{model_dir}/config.json") as f:
            self.cfg = json.load(f)
        self.w = read_safetensors(f"{model_dir}/model.safetensors")
        c = self.cfg
        self.heads = c["num_attention_heads"]
        self.hs = c["hidden_size"] // self.heads
        self.rot = int(self.hs * c["rotary_pct"])
        self.eps = c["layer_norm_eps"]
        self.vocab = self.w["embed_out.weight"].shape[0]
        inv_freq = 1.0 / (c["rotary_emb_base"] ** (torch.arange(0, self.rot, 2, dtype=torch.int64).float() / self.rot))
        t = torch.arange(c["max_position_embeddings"], dtype=torch.int64).type_as(inv_freq)
        freqs = torch.outer(t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()

    def _ln(self, x, name):
        return F.layer_norm(x, (x.shape[-1],), self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def _lin(self, x, name):
        return F.linear(x, self.w[name + ".weight"], self.w.get(name + ".bias"))

    @staticmethod
    def _rotate_half(x):
        h = x.shape[-1] // 2
        return torch.cat((-x[..., h:], x[..., :h]), dim=-1)

    def _attn(self, x, p):
        L = x.shape[0]
        qkv = self._lin(x, p + ".attention.query_key_value").view(L, self.heads, 3 * self.hs)
        q, k, v = (qkv[..., :self.hs], qkv[..., self.hs:2 * self.hs], qkv[..., 2 * self.hs:])
        q, k, v = (t.permute(1, 0, 2) for t in (q, k, v))  # [heads, L, hs]
        cos, sin = self.cos[:L][None], self.sin[:L][None]
        r = self.rot
        qr, qp = q[..., :r], q[..., r:]
        kr, kp = k[..., :r], k[..., r:]
        q = torch.cat((qr * cos + self._rotate_half(qr) * sin, qp), dim=-1)
        k = torch.cat((kr * cos + self._rotate_half(kr) * sin, kp), dim=-1)
        scores = torch.baddbmm(torch.zeros(self.heads, L, L), q, k.transpose(1, 2),
                               beta=1.0, alpha=self.hs ** -0.5)
        mask = torch.tril(torch.ones(L, L, dtype=torch.bool))
        scores = torch.where(mask, scores, torch.tensor(torch.finfo(torch.float32).min))
        probs = torch.softmax(scores, dim=-1)
        out = torch.matmul(probs, v).permute(1, 0, 2).reshape(L, self.heads * self.hs)
        return self._lin(out, p + ".attention.dense")

    def _mlp(self, x, p):
        return self._lin(F.gelu(self._lin(x, p + ".mlp.dense_h_to_4h")), p + ".mlp.dense_4h_to_h")

    @torch.no_grad()
    def logits(self, ids):
        x = self.w["gpt_neox.embed_in.weight"][torch.tensor(ids, dtype=torch.long)]
        for i in range(self.cfg["num_hidden_layers"]):
            p = f"gpt_neox.layers.{i}"
            a = self._attn(self._ln(x, p + ".input_layernorm"), p)
            if self.cfg["use_parallel_residual"]:
                x = x + a + self._mlp(self._ln(x, p + ".post_attention_layernorm"), p)
            else:
                x = x + a
                x = x + self._mlp(self._ln(x, p + ".post_attention_layernorm"), p)
        x = self._ln(x, "gpt_neox.final_layer_norm")
        return F.linear(x, self.w["embed_out.weight"])

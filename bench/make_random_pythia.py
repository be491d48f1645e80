#!/usr/bin/env python3
"""Writes a random-weight checkpoint folder with the exact shapes of a Pythia model.

For memory and speed measurements of the loader and `score` at real sizes (bench/README.md):
speed and memory do not depend on the values. Needs numpy only (Debian: apt-get install
python3-numpy); no torch, no network.

    bench/make_random_pythia.py --shape 1.4b --out /work/tmp-models/pythia-1.4b-random
    bench/make_random_pythia.py --shape 6.9b --out /work/tmp-models/pythia-6.9b-random

writes config.json (the EleutherAI/pythia-<shape> config.json keys, transformers 4.40.2) and
model.safetensors, or, when the weights exceed --shard-gb, model-0000i-of-0000n.safetensors shards
plus model.safetensors.index.json ({"metadata": {"total_size": ...}, "weight_map": {...}}), the
layout transformers' save_pretrained uses. Tensors are written one at a time in row chunks, so
the script itself needs well under 1 GB of memory even for 12b.

Values: matrices ~N(0, 0.02) (std of Pythia's init), LayerNorm weights 1, biases 0, stored as
--dtype (f16 default, as Pythia's checkpoints; bf16 as pythia-1b's; f32). bf16 is the upper half
of float32 rounded to nearest even (numpy has no bfloat16).
Also: --tokens N --sequences S writes S random score input lines of N ids to <out>/score_input.jsonl.
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

# hidden, layers, heads, intermediate, vocab (EleutherAI/pythia-* config.json).
SHAPES = {
    "14m": (128, 6, 4, 512, 50304),
    "70m": (512, 6, 8, 2048, 50304),
    "160m": (768, 12, 12, 3072, 50304),
    "410m": (1024, 24, 16, 4096, 50304),
    "1b": (2048, 16, 8, 8192, 50304),
    "1.4b": (2048, 24, 16, 8192, 50304),
    "2.8b": (2560, 32, 32, 10240, 50304),
    "6.9b": (4096, 32, 32, 16384, 50432),
    "12b": (5120, 36, 40, 20480, 50688),
}

DTYPES = {"f16": ("F16", 2), "bf16": ("BF16", 2), "f32": ("F32", 4)}


def config_json(shape, dtype):
    hidden, layers, heads, inter, vocab = SHAPES[shape]
    return {
        "architectures": ["GPTNeoXForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": 0,
        "classifier_dropout": 0.1,
        "eos_token_id": 0,
        "hidden_act": "gelu",
        "hidden_dropout": 0.0,
        "hidden_size": hidden,
        "initializer_range": 0.02,
        "intermediate_size": inter,
        "layer_norm_eps": 1e-05,
        "max_position_embeddings": 2048,
        "model_type": "gpt_neox",
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "rotary_emb_base": 10000,
        "rotary_pct": 0.25,
        "tie_word_embeddings": False,
        "torch_dtype": {"f16": "float16", "bf16": "bfloat16", "f32": "float32"}[dtype],
        "transformers_version": "4.40.2",
        "use_cache": True,
        "use_parallel_residual": True,
        "vocab_size": vocab,
    }


def tensor_list(shape):
    """(name, shape, kind) in the order GPTNeoXForCausalLM.state_dict() lists them."""
    hidden, layers, _, inter, vocab = SHAPES[shape]
    C, I, V = hidden, inter, vocab
    out = [("gpt_neox.embed_in.weight", (V, C), "matrix")]
    for l in range(layers):
        p = f"gpt_neox.layers.{l}."
        out += [
            (p + "input_layernorm.weight", (C,), "one"),
            (p + "input_layernorm.bias", (C,), "zero"),
            (p + "post_attention_layernorm.weight", (C,), "one"),
            (p + "post_attention_layernorm.bias", (C,), "zero"),
            (p + "attention.query_key_value.weight", (3 * C, C), "matrix"),
            (p + "attention.query_key_value.bias", (3 * C,), "zero"),
            (p + "attention.dense.weight", (C, C), "matrix"),
            (p + "attention.dense.bias", (C,), "zero"),
            (p + "mlp.dense_h_to_4h.weight", (I, C), "matrix"),
            (p + "mlp.dense_h_to_4h.bias", (I,), "zero"),
            (p + "mlp.dense_4h_to_h.weight", (C, I), "matrix"),
            (p + "mlp.dense_4h_to_h.bias", (C,), "zero"),
        ]
    out += [
        ("gpt_neox.final_layer_norm.weight", (C,), "one"),
        ("gpt_neox.final_layer_norm.bias", (C,), "zero"),
        ("embed_out.weight", (V, C), "matrix"),
    ]
    return out


def to_dtype(x, dtype):
    """float32 array -> bytes of `dtype` (little-endian)."""
    if dtype == "f32":
        return x.astype("<f4").tobytes()
    if dtype == "f16":
        return x.astype("<f2").tobytes()
    bits = x.astype("<f4").view("<u4")
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> 16) & np.uint32(1))) >> 16  # nearest even
    return rounded.astype("<u2").tobytes()


def write_tensor(f, rng, shape, kind, dtype, chunk_elems=1 << 24):
    n = int(np.prod(shape))
    done = 0
    while done < n:
        k = min(chunk_elems, n - done)
        if kind == "matrix":
            x = rng.standard_normal(k, dtype=np.float32) * np.float32(0.02)
        else:
            x = np.full(k, 1.0 if kind == "one" else 0.0, dtype=np.float32)
        f.write(to_dtype(x, dtype))
        done += k


def write_safetensors(path, entries, dtype, rng):
    st_dtype, esize = DTYPES[dtype]
    header = {}
    off = 0
    for name, shape, _ in entries:
        nbytes = int(np.prod(shape)) * esize
        header[name] = {"dtype": st_dtype, "shape": list(shape), "data_offsets": [off, off + nbytes]}
        off += nbytes
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for name, shape, kind in entries:
            write_tensor(f, rng, shape, kind, dtype)
    return off


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", required=True, choices=sorted(SHAPES))
    ap.add_argument("--out", required=True, help="folder to write (created)")
    ap.add_argument("--dtype", default="f16", choices=sorted(DTYPES))
    ap.add_argument("--shard-gb", type=float, default=10.0,
                    help="shard when the weights exceed this many GB (default 10; 0 = never)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--tokens", type=int, default=0, help="also write score_input.jsonl with lines of N ids")
    ap.add_argument("--sequences", type=int, default=8, help="lines of score_input.jsonl")
    a = ap.parse_args()

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config_json(a.shape, a.dtype), f, indent=2)
        f.write("\n")
    rng = np.random.default_rng(a.seed)
    entries = tensor_list(a.shape)
    esize = DTYPES[a.dtype][1]
    total = sum(int(np.prod(s)) * esize for _, s, _ in entries)
    params = sum(int(np.prod(s)) for _, s, _ in entries)
    limit = int(a.shard_gb * 1e9)
    if limit <= 0 or total <= limit:
        write_safetensors(os.path.join(a.out, "model.safetensors"), entries, a.dtype, rng)
        files = ["model.safetensors"]
    else:
        shards, cur, size = [], [], 0
        for e in entries:
            nbytes = int(np.prod(e[1])) * esize
            if cur and size + nbytes > limit:
                shards.append(cur)
                cur, size = [], 0
            cur.append(e)
            size += nbytes
        shards.append(cur)
        weight_map, files = {}, []
        for i, shard in enumerate(shards):
            name = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
            write_safetensors(os.path.join(a.out, name), shard, a.dtype, rng)
            files.append(name)
            for t, _, _ in shard:
                weight_map[t] = name
        with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
            f.write("\n")
    if a.tokens > 0:
        vocab = SHAPES[a.shape][4]
        with open(os.path.join(a.out, "score_input.jsonl"), "w") as f:
            for _ in range(a.sequences):
                ids = rng.integers(0, min(vocab, 50277), a.tokens).tolist()
                f.write(json.dumps({"ids": ids}) + "\n")
    print(f"{a.out}: pythia-{a.shape} shapes, {params / 1e9:.3f} G parameters, {a.dtype} "
          f"{total / 1e9:.2f} GB in {', '.join(files)}", file=sys.stderr)


if __name__ == "__main__":
    main()

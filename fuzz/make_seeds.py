#!/usr/bin/env python3
"""Writes the small hand-made seeds committed under fuzz/seeds/<target>/ (valid and hostile
inputs in each target's input layout, see the fuzz_<target>.cpp headers). Deterministic: running
it again gives the same bytes. Standard library only. Usage: python3 fuzz/make_seeds.py"""
import gzip
import io
import json
import os
import struct
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SEEDS = os.path.join(HERE, "seeds")


def put(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


# --- safetensors -----------------------------------------------------------------------------
def safetensors(header, buffer=b""):
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + buffer


put("safetensors", "valid_mixed", safetensors({
    "__metadata__": {"format": "pt"},
    "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
    "b": {"dtype": "F16", "shape": [3], "data_offsets": [16, 22]},
    "c": {"dtype": "BF16", "shape": [1], "data_offsets": [22, 24]},
    "s": {"dtype": "I64", "shape": [], "data_offsets": [24, 32]},
    "e": {"dtype": "U8", "shape": [0, 5], "data_offsets": [32, 32]}},
    struct.pack("<4f", 1, 2, 3, 4) + b"\x00\x3c\x00\xc0\xff\x7b" + b"\x80\x3f" + struct.pack("<q", -7)))
# A header that claims a 10 GB tensor in a file of a few hundred bytes.
put("safetensors", "hostile_10gb_tensor", safetensors({
    "w": {"dtype": "F16", "shape": [5368709120], "data_offsets": [0, 10737418240]}}, b"\0" * 16))
# A header length of 10 GB.
put("safetensors", "hostile_10gb_header", struct.pack("<Q", 10_000_000_000) + b"{}")
put("safetensors", "hostile_overlap", safetensors({
    "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
    "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}}, b"\0" * 6))
nested = b'{"a":{"dtype":"U8","shape":' + b"[" * 500 + b"]" * 500 + b',"data_offsets":[0,0]}}'
put("safetensors", "hostile_nested_shape", struct.pack("<Q", len(nested)) + nested)


# --- pickles (CPython Lib/pickletools.py opcodes; what torch.save protocol 2 writes) --------
class Pickle:
    def __init__(self, proto=2):
        self.b = bytearray(b"\x80" + bytes([proto]))

    def op(self, c):
        self.b += c if isinstance(c, bytes) else c.encode("latin-1")
        return self

    def str(self, s):
        v = s.encode()
        if len(v) < 256:
            self.b += b"\x8c" + bytes([len(v)]) + v  # SHORT_BINUNICODE
        else:
            self.b += b"X" + struct.pack("<I", len(v)) + v
        return self

    def int(self, v):
        if 0 <= v < 256:
            self.b += b"K" + bytes([v])
        elif 0 <= v < 65536:
            self.b += b"M" + struct.pack("<H", v)
        elif -2**31 <= v < 2**31:
            self.b += b"J" + struct.pack("<i", v)
        else:
            raw = v.to_bytes(8, "little", signed=True)
            self.b += b"\x8a\x08" + raw  # LONG1
        return self

    def glob(self, module, name):
        self.b += b"c" + module.encode() + b"\n" + name.encode() + b"\n"
        return self

    def ints(self, vs):
        self.op("(")
        for v in vs:
            self.int(v)
        return self.op("t")

    def tensor(self, stype, key, numel, offset, size, stride, parameter=False):
        if parameter:
            self.glob("torch._utils", "_rebuild_parameter").op("(")
        self.glob("torch._utils", "_rebuild_tensor_v2").op("(")
        self.op("(").str("storage").glob("torch", stype).str(key).str("cpu").int(numel).op("t")
        self.op("Q")  # BINPERSID
        self.int(offset).ints(size).ints(stride)
        self.op(b"\x89")  # NEWFALSE
        self.glob("collections", "OrderedDict").op(")").op("R")
        self.op("t").op("R")
        if parameter:
            self.op(b"\x88").glob("collections", "OrderedDict").op(")").op("R").op("t").op("R")
        return self

    def done(self):
        return bytes(self.b + b".")


def state_dict_pickle():
    p = Pickle()
    p.glob("collections", "OrderedDict").op(")").op("R").op("q\x00")  # OrderedDict(), BINPUT 0
    p.op("(")
    p.str("gpt_neox.embed_in.weight").tensor("FloatStorage", "0", 6, 0, [2, 3], [3, 1])
    p.str("gpt_neox.layers.0.attention.bias").tensor("FloatStorage", "0", 6, 2, [2, 2], [2, 1])
    p.str("embed_out.weight").tensor("HalfStorage", "1", 4, 0, [4], [1], parameter=True)
    p.str("scalar").tensor("ByteStorage", "2", 1, 0, [], [])
    p.op("u")  # SETITEMS
    # _metadata as OrderedDict's state, as torch writes it (BUILD on the dict).
    p.op("}").str("_metadata").glob("collections", "OrderedDict").op(")").op("R").op("s").op("b")
    return p.done()


PKL = state_dict_pickle()
STORAGES = [struct.pack("<6f", 1, 2, 3, 4, 5, 6), b"\x00\x3c\x00\x40\x00\x42\x00\x44", b"\x07"]
put("unpickler", "valid_state_dict", PKL)
put("unpickler", "memo_and_frames", bytes(
    Pickle(4).op(b"\x95" + struct.pack("<Q", 20)).op("}").op(b"\x94").str("k").op(b"\x94")
    .op("h\x01").op("N").op(b"\x86").op("h\x00").op("r" + "\x05\x00\x00\x00").op("j\x05\x00\x00\x00")
    .op("]").op("(").int(1).int(-5).int(70000).int(2**40).op("G").op(struct.pack(">d", 1.5))
    .op("e").op("a").op("N").op("s").done()))
put("unpickler", "hostile_os_system", Pickle().glob("posix", "system").str("id").op(b"\x85").op("R").done())
put("unpickler", "hostile_stack_global", Pickle(4).str("builtins").str("eval").op(b"\x93").str("1").op(b"\x85").op("R").done())
# A list that contains itself (memo + APPEND): a reference cycle.
put("unpickler", "hostile_self_list", Pickle().op("]").op("q\x00").op("h\x00").op("a").done())


# --- torch checkpoints -----------------------------------------------------------------------
def structured(mode, pkl, storages):
    return bytes([mode]) + b"|ZE|".join([pkl] + storages)


put("torch_checkpoint", "structured_stored", structured(0, PKL, STORAGES))
put("torch_checkpoint", "structured_deflated_byteorder", structured(2 | 4, PKL, STORAGES))
put("torch_checkpoint", "structured_named_prefix", structured(8, PKL, STORAGES))
put("torch_checkpoint", "structured_short_storage", structured(0, PKL, [STORAGES[0][:20]] + STORAGES[1:]))


def zip_bytes(entries, compression=zipfile.ZIP_STORED, zip64=False):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = compression
            with z.open(info, "w", force_zip64=zip64) as f:
                f.write(data)
    return buf.getvalue()


ENTRIES = [("archive/data.pkl", PKL)] + [("archive/data/%d" % k, s) for k, s in enumerate(STORAGES)] + \
          [("archive/version", b"3\n")]
put("torch_checkpoint", "raw_zip_stored", b"\x01" + zip_bytes(ENTRIES))
put("torch_checkpoint", "raw_zip_deflated", b"\x01" + zip_bytes(ENTRIES, zipfile.ZIP_DEFLATED))
put("torch_checkpoint", "raw_legacy_pickle", b"\x01" + PKL)
put("zip_directory", "stored", zip_bytes(ENTRIES))
put("zip_directory", "zip64", zip_bytes(ENTRIES, zip64=True))
put("zip_directory", "deflated", zip_bytes(ENTRIES, zipfile.ZIP_DEFLATED))

# --- config.json -----------------------------------------------------------------------------
cfg = json.load(open(os.path.join(ROOT, "tests/fixtures/pythia-tiny/config.json")))
put("neox_config", "hostile_nested_architectures",
    json.dumps(dict(cfg, architectures=None)).replace("null", "[" * 1000 + "]" * 1000))
put("neox_config", "rope_theta_and_nulls", json.dumps(dict(cfg, rope_theta=cfg.get("rotary_emb_base", 10000),
                                                           bos_token_id=None, rope_scaling=None)))

# --- tokenizer.json: a small tokenizer cut from the GPT-NeoX-20B one ----------------------------
with gzip.open(os.path.join(ROOT, "tests/fixtures/tokenizer/20B_tokenizer.json.gz")) as f:
    tok = json.load(f)
vocab = tok["model"]["vocab"]
byte_level = [chr(c) for c in range(33, 127)] + [chr(c) for c in range(161, 173)] + \
             [chr(c) for c in range(174, 256)] + [chr(256 + k) for k in range(68)]
keep = {t for t in byte_level if t in vocab}
merges = []
for m in tok["model"]["merges"]:
    a, b = m.split(" ") if isinstance(m, str) else m
    if a in keep and b in keep:
        merges.append(m)
        keep.add(a + b)
    if len(merges) >= 60:
        break
order = sorted(keep, key=lambda t: vocab[t])
new_vocab = {t: i + 2 for i, t in enumerate(order)}
added = [dict(a) for a in tok["added_tokens"][:4]]
added[0]["id"], added[1]["id"] = 0, 1
added[2]["id"], added[3]["id"] = len(new_vocab) + 2, len(new_vocab) + 3
small = {k: v for k, v in tok.items() if k not in ("model", "added_tokens")}
small["added_tokens"] = added
small["model"] = dict(tok["model"], vocab=new_vocab, merges=merges)
small_text = json.dumps(small, ensure_ascii=False)
put("tokenizer", "small_20b_cut", small_text)
pairs = dict(small["model"], merges=[m.split(" ") if isinstance(m, str) else m for m in merges])
put("tokenizer", "merges_as_pairs", json.dumps(dict(small, model=pairs), ensure_ascii=False))
put("tokenizer", "hostile_unknown_merge", json.dumps(dict(small, model=dict(small["model"], merges=["x\u0100 zz"] * 50)),
                                                     ensure_ascii=False))


# --- Megatron .idx/.bin ------------------------------------------------------------------------
def idx(dtype, sizes, pointers, doc_idx):
    return b"MMIDIDX\0\0" + struct.pack("<QBQQ", 1, dtype, len(sizes), len(doc_idx)) + \
        struct.pack("<%di" % len(sizes), *sizes) + struct.pack("<%dq" % len(pointers), *pointers) + \
        struct.pack("<%dq" % len(doc_idx), *doc_idx)


def idx_input(mode, idx_bytes, bin_bytes):
    return bytes([mode]) + struct.pack("<H", len(idx_bytes)) + idx_bytes + bin_bytes


rows = [list(range(10 * r, 10 * r + 4)) for r in range(4)]
bin16 = b"".join(struct.pack("<4H", *r) for r in rows)
pre = idx(8, [4] * 4, [0, 8, 16, 24], [0, 4])
put("indexed_dataset", "preshuffled_u16", idx_input(3 << 4, pre, bin16))
put("indexed_dataset", "preshuffled_u16_3_shards", idx_input((3 << 4) | 2 | 4, pre, bin16))
put("indexed_dataset", "ragged_i32", idx_input(0, idx(4, [2, 0, 3], [0, 8, 8], [0, 1, 3]), struct.pack("<5i", 1, -2, 3, 4, 5)))
put("indexed_dataset", "u8_i8_i16", idx_input(0, idx(1, [3], [0], [0]), b"\x01\x02\xff"))
# .idx claims items far beyond the .bin: a 2^31-1 token item, an item past the end.
put("indexed_dataset", "hostile_sizes_beyond_bin", idx_input(0, idx(8, [2**31 - 1, 4], [0, 1 << 40], [0, 2]), bin16))
put("indexed_dataset", "hostile_negative", idx_input(0, idx(8, [-1, 4], [0, -8], [0, 2]), bin16))
put("indexed_dataset", "hostile_legacy_magic", idx_input(0, b"TNTIDX\0\0" + b"\0" * 40, b""))

# --- task data files: mode byte = task index (lambada_openai piqa winogrande arc_easy
# arc_challenge sciq wikitext), | 0x80 = gzip; "|LABELS|" starts piqa's / winogrande's labels.
put("task_data", "lambada_no_space", b"\x00" + b'{"text": "word"}\n{"text": " lead"}\n\n{"text": "a b  "}\n')
put("task_data", "piqa_bad_label", b"\x01" + b'{"goal": "g", "sol1": "a", "sol2": "b"}\n|LABELS|2\n')
put("task_data", "piqa_count_mismatch_gz", b"\x81" + b'{"goal": "g", "sol1": "a", "sol2": "b"}\n|LABELS|0\n1\n')
put("task_data", "winogrande_two_blanks", b"\x02" + b'{"sentence": "A _ and _", "option1": "x", "option2": "y", '
    b'"answer": "2"}\n{"sentence": "no blank", "option1": "x", "option2": "y"}\n|LABELS|2\n1\n')
put("task_data", "arc_answer_not_a_label", b"\x03" + json.dumps(
    {"id": "q1", "question": {"stem": "Why?", "choices": [{"text": "a", "label": "A"}, {"text": "b", "label": "B"}]},
     "answerKey": "C"}).encode() + b"\n")
put("task_data", "arc_challenge_empty_choices", b"\x04" + b'{"id": "q", "question": {"stem": "s", "choices": []}, "answerKey": "A"}\n')
put("task_data", "sciq_record_not_object", b"\x05" + b'[{"question": "q", "distractor1": "a", "distractor2": "b", '
    b'"distractor3": "c", "correct_answer": "d", "support": ""}, 7]')
put("task_data", "wikitext_headings_and_bad_utf8", b"\x08" + b" \n = Title = \n \n Text @-@ with @,@ marks . \n \n"
    b" = = Sub = = \n \n More \xff text \n")
put("task_data", "wsc_span_index_past_text", b"\x06" + json.dumps(
    {"text": "A b c .", "target": {"span1_index": 0, "span2_index": 99, "span1_text": "A",
                                   "span2_text": "it"}, "idx": 0, "label": True}).encode() + b"\n")
put("task_data", "logiqa_short_record", b"\x07" + b"\na\nContext.\nQuestion?\nA.one\nB.two\n\n"
    b"e\nC\nQ\nA.1\nB.2\nC.3\nD.4\n")
put("task_data", "mmlu_unterminated_quote", b"\x09" + b'question,choice0,choice1,choice2,choice3,answer\n'
    b'"Q?",a,b,c,d,A\n"open,a,b,c,d,B\n|LABELS|question,choice0,choice1,choice2,choice3,answer\n'
    b'x,a,b,c,d,E\n')

# --- results JSON ----------------------------------------------------------------------------
v04 = json.load(open(os.path.join(ROOT, "tests/fixtures/results/lm-eval/pythia-tiny.results.json")))
keep_tasks = list(v04["results"])[:2]
small_v04 = {}
for k, v in v04.items():
    if isinstance(v, dict) and set(keep_tasks) & set(v):
        small_v04[k] = {t: v[t] for t in keep_tasks if t in v}
    else:
        small_v04[k] = v
put("results", "v04_two_tasks", b"\x00" + json.dumps(small_v04).encode())
put("results", "v04_two_tasks_gz", b"\x01" + gzip.compress(json.dumps(small_v04).encode(), mtime=0))
v03 = {"results": {"lambada_openai": {"ppl": 3.9, "ppl_stderr": 0.1, "acc": 0.6, "acc_stderr": 0.01},
                   "wikitext": {"word_perplexity": 20.5, "byte_perplexity": 1.7, "bits_per_byte": 0.8}},
       "versions": {"lambada_openai": 0, "wikitext": 1},
       "config": {"model": "hf-causal", "model_args": "pretrained=EleutherAI/pythia-70m,revision=step1000",
                  "num_fewshot": 0}}
put("results", "v03_lambada_wikitext", b"\x00" + json.dumps(v03).encode())
put("results", "hostile_nested_config", b"\x00" + json.dumps(dict(v03, config=None)).encode().replace(
    b"null", b"[" * 2000 + b"]" * 2000))
# Not a seed: the reproducer of finding F1 (fixed; fuzz/README.md), replayed from regressions/.
put("../regressions/results", "ub-float-cast-nshot", b"\x00" + json.dumps(
    {"results": {"t": {"acc,none": 1e308, "acc_stderr,none": "N/A"}}, "n-shot": {"t": 1e300},
     "n-samples": {"t": {"original": 1e300, "effective": -1e300}}, "versions": {"t": 1e308}}).encode())

# --- memorize journal (memorization/journal.h) and memorization.json -------------------------
# Real ones (fuzz/seeds/memorization_*/real_*) come from a memorize run on the fixtures
# (mini-pythia step12, mini-pile, --sequences-per-step 16; the journal from a run killed with
# SIGKILL after 5 s); these are hand-made.
import zlib


def journal(config, blocks, tail=b""):
    h = b"PYMEMJ01" + struct.pack("<I", len(config)) + config + struct.pack("<I", zlib.crc32(config))
    for first, count in blocks:
        body = struct.pack("<QI", first, count) + b"".join(
            struct.pack("<BBHf", 4 | (i & 2), i % 33, i % 64, 0.5) for i in range(count))
        h += struct.pack("<I", 0x314b4c42) + body + struct.pack("<I", zlib.crc32(body))
    return h + tail


CFG = json.dumps({"model": "m", "prefix_len": 32, "continuation_len": 32}).encode()
put("memorization_journal", "two_blocks", b"\x03" + journal(CFG, [(0, 4), (4, 4)]))
put("memorization_journal", "torn_tail", b"\x01" + journal(CFG, [(0, 4)], b"BLK1\x04\x00"))
put("memorization_journal", "hostile_overlap", b"\x01" + journal(CFG, [(0, 4), (2, 4)]))
put("memorization_journal", "hostile_wrap", b"\x01" + journal(CFG, [(2**64 - 2, 4)]))
put("memorization_journal", "hostile_deep_config_mismatch",
    b"\x00" + journal(b'{"model": ' + b"[" * 5000 + b"]" * 5000 + b"}", []))
put("memorization_journal", "hostile_header_length", b"\x01PYMEMJ01\xff\xff\xff\xff{}")
mem = {"model": "m", "revision": "step12", "step": 12, "row_range": [0, 4], "continuation_len": 2,
       "rows_scanned": 4, "rows_memorized": 1, "rows_flagged_nan": 0, "rows_unseen": 0,
       "rows_eod_in_target": 0, "mean_score": 0.5, "histogram": [1, 2, 1], "memorized_indices": [3],
       "near_tie_rows": [], "memorized_near_tie_rows": [], "flagged_nan_rows": [], "data": {"prefix": "d"}}
put("memorization_file", "small", b"\x00" + json.dumps(mem).encode() +
    b"|CSV|index,score\n0,0.0\n1,0.5\n2,0.5\n3,1.0\n")
put("memorization_file", "hostile_floats", b"\x00" + json.dumps(dict(
    mem, continuation_len=1e300, rows_scanned=-1e300, histogram=[1.5], step=1e19)).encode())
put("memorization_file", "hostile_nested", b"\x00" + json.dumps(dict(mem, data=None)).encode().replace(
    b"null", b"[" * 3000 + b"]" * 3000))
print("seeds written under", SEEDS)

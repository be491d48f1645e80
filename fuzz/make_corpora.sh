#!/usr/bin/env bash
# Seeds the fuzzers: build/fuzz/corpus/<target>/ gets the committed hand-made seeds
# (fuzz/seeds/<target>/, written by fuzz/make_seeds.py) plus small inputs cut from the test
# fixtures (tests/fixtures/...), in each target's input layout (see fuzz/fuzz_<target>.cpp).
# Nothing here is committed; re-running refreshes the fixture seeds and keeps what the fuzzers
# added. Needs bash, coreutils, gzip, unzip and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
FX=tests/fixtures
OUT=${FUZZ_CORPUS_DIR:-build/fuzz/corpus}
targets=(safetensors torch_checkpoint unpickler zip_directory neox_config tokenizer indexed_dataset
         task_data results memorization_journal memorization_file)
for t in "${targets[@]}"; do
  mkdir -p "$OUT/$t"
  if [ -d "fuzz/seeds/$t" ]; then cp fuzz/seeds/$t/* "$OUT/$t/"; fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# safetensors: the real headers of the fixture checkpoints with the first 256 bytes of data.
for m in pythia-tiny neox-variant; do
  python3 - "$FX/$m/model.safetensors" "$OUT/safetensors/fixture_$m" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read(1 << 20)
n = struct.unpack("<Q", b[:8])[0]
open(sys.argv[2], "wb").write(b[:8 + n + 256])
PY
done

# unpickler / torch_checkpoint: data.pkl of the pythia-tiny pytorch_model.bin (torch.save output).
zcat "$FX/pythia-tiny/pytorch_model.bin.gz" > "$tmp/pytorch_model.bin"
unzip -p "$tmp/pytorch_model.bin" 'pytorch_model/data.pkl' > "$OUT/unpickler/fixture_pythia_tiny.pkl"
{ printf '\x08'; cat "$OUT/unpickler/fixture_pythia_tiny.pkl"; } > "$OUT/torch_checkpoint/fixture_pkl_no_storages"

# config.json of every fixture checkpoint.
for c in "$FX"/*/config.json "$FX"/mini-pythia/*/config.json; do
  name=$(echo "${c#"$FX"/}" | tr '/' '_')
  cp "$c" "$OUT/neox_config/fixture_$name"
done

# Megatron .idx (whole) + the first 4 KiB of the .bin: mode 0, u16 idx length, idx, bin.
for d in mini-pile mini-pile-probe; do
  python3 - "$FX/$d/document" "$OUT/indexed_dataset/fixture_$d" <<'PY'
import struct, sys
idx = open(sys.argv[1] + ".idx", "rb").read()
bin_ = open(sys.argv[1] + ".bin", "rb").read(4096)
open(sys.argv[2], "wb").write(bytes([0]) + struct.pack("<H", len(idx)) + idx + bin_)
PY
done

# Task data: the first records of each task's file; mode byte = task index in registry order
# (lambada_openai piqa winogrande arc_easy arc_challenge sciq wsc logiqa wikitext), 9 = mmlu
# (abstract_algebra: test CSV |LABELS| dev CSV), | 0x80 = gzip.
first_lines() { (set +o pipefail; if [[ $1 == *.gz ]]; then zcat "$1" | head -n "$2"; else head -n "$2" "$1"; fi); }
T=$FX/tasks
{ printf '\x00'; first_lines "$T/lambada_openai/lambada_test.jsonl.gz" 3; } > "$OUT/task_data/fixture_lambada"
{ printf '\x80'; first_lines "$T/lambada_openai/lambada_test.jsonl.gz" 2; } > "$OUT/task_data/fixture_lambada_gz"
{ printf '\x01'; head -n 3 "$T/piqa/valid.jsonl"; printf '|LABELS|'; head -n 3 "$T/piqa/valid-labels.lst"; } \
  > "$OUT/task_data/fixture_piqa"
{ printf '\x02'; head -n 3 "$T/winogrande/dev.jsonl"; printf '|LABELS|'; head -n 3 "$T/winogrande/dev-labels.lst"; } \
  > "$OUT/task_data/fixture_winogrande"
{ printf '\x03'; first_lines "$T/arc_easy/ARC-Easy-Test.jsonl.gz" 3; } > "$OUT/task_data/fixture_arc_easy"
{ printf '\x04'; head -n 3 "$T/arc_challenge/ARC-Challenge-Test.jsonl"; } > "$OUT/task_data/fixture_arc_challenge"
{ printf '\x05'; python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[:2]))" "$T/sciq/test.json"; } \
  > "$OUT/task_data/fixture_sciq"
{ printf '\x06'; head -n 3 "$T/wsc/val.jsonl"; } > "$OUT/task_data/fixture_wsc"
{ printf '\x07'; head -n 24 "$T/logiqa/Test.txt"; } > "$OUT/task_data/fixture_logiqa"
{ printf '\x08'; head -n 40 "$T/wikitext/wiki.test.raw"; } > "$OUT/task_data/fixture_wikitext"
{ printf '\x09'; head -n 4 "$T/mmlu/test/abstract_algebra_test.csv"; printf '|LABELS|'
  head -n 3 "$T/mmlu/dev/abstract_algebra_dev.csv"; } > "$OUT/task_data/fixture_mmlu"

# Results: Pythia's v0.3 layout (small fixture); the v0.4 layout is in fuzz/seeds/results (cut
# down from tests/fixtures/results/lm-eval, whose 17 KB would make every input that long).
{ printf '\x00'; cat "$FX/results/pythia-v0/70m-deduped_step143000.subset.json"; } > "$OUT/results/fixture_pythia_v0"

for t in "${targets[@]}"; do
  printf '%-18s %4d files %8d bytes\n' "$t" "$(ls "$OUT/$t" | wc -l)" "$(cat "$OUT/$t"/* | wc -c)"
done

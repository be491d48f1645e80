#!/usr/bin/env python3
"""Writes tests/fixtures/analysis-tree/: a small synthetic sweep tree for `pythia-harness analyze`.

Deterministic (random.Random(SEED)); standard library only. Layout as results/output_layout.h:
<root>/<model>/<revision>/memorization.json + memorization_scores.csv.gz (index,score lines).
  - group "mini" (same data sha256): model-a steps 1,2,4,8,16,32,64 and model-b steps 8,64,
    16 rows per step (checkpoint stepN scans rows [0, 16N)); memorization grows with the step and
    some rows are forgotten; one NaN row; one duplicated index line (as reference CSVs have);
  - model-b step64 also has a shard-0-of-2/ folder (must be skipped);
  - group "other" (another data sha256): model-c step2, step4 where step4 is a --memorized-only
    scan (no CSV; memorized_indices in the JSON).
Usage: python3 tests/reference/make_analysis_tree.py tests/fixtures/analysis-tree
"""
import gzip
import json
import os
import random
import shutil
import sys

SEED = 20261203
ROWS_PER_STEP = 16


def score_text(k):
    return repr(float(k / 32))


def write_scan(root, model, step, data_sha, scores, memorized_only=False, shard=None):
    folder = os.path.join(root, model, f"step{step}")
    if shard:
        folder = os.path.join(folder, shard)
    os.makedirs(folder, exist_ok=True)
    n = ROWS_PER_STEP * step
    memorized = [i for i, s in scores if s == "1.0"]
    doc = {
        "format": "pythia-harness memorization v1",
        "model": model,
        "revision": f"step{step}",
        "step": step,
        "data": {"prefix": "/somewhere/document", "files": [{"name": "document.bin", "bytes": 1, "sha256": data_sha}]},
        "row_range": [0, n],
        "sequences_per_step": ROWS_PER_STEP,
        "score_mode": "memorized-only" if memorized_only else "exact",
        "rows_scanned": n,
        "rows_memorized": len(set(memorized)),
        "memorized_indices": sorted(set(memorized)),
    }
    with open(os.path.join(folder, "memorization.json"), "w") as f:
        json.dump(doc, f, indent=1)
    if not memorized_only:
        text = "".join(f"{i},{s}\n" for i, s in scores)
        with gzip.GzipFile(os.path.join(folder, "memorization_scores.csv.gz"), "wb", mtime=0) as f:
            f.write(text.encode())


def main():
    root = sys.argv[1]
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(SEED)
    # A latent "strength" per row; a row is memorized at a step when strength * log(step) is high.
    nrows = ROWS_PER_STEP * 64
    strength = [rng.random() for _ in range(nrows)]
    for model, steps, bias in (("model-a", [1, 2, 4, 8, 16, 32, 64], 0.0), ("model-b", [8, 64], 0.1)):
        for step in steps:
            scores = []
            for i in range(ROWS_PER_STEP * step):
                p = strength[i] * (0.2 + 0.12 * step.bit_length()) + bias
                if rng.random() < p * 0.5:
                    scores.append((i, "1.0"))
                else:
                    scores.append((i, score_text(rng.randrange(0, 32))))
            if model == "model-a" and step == 8:
                scores[5] = (5, "nan")
                scores.insert(20, (scores[19][0], "1.0"))  # duplicated index: memorized if any line is
            write_scan(root, model, step, "a" * 64, scores)
            if model == "model-b" and step == 64:
                write_scan(root, model, step, "a" * 64, scores[: len(scores) // 2], shard="shard-0-of-2")
    for step, mo in ((2, False), (4, True)):
        scores = [(i, "1.0" if rng.random() < 0.3 else "0.5") for i in range(ROWS_PER_STEP * step)]
        write_scan(root, "model-c", step, "b" * 64, scores, memorized_only=mo)
    # Duplicate counts of the rows (as `dedup-count` writes them) for rows 0..999 (1000..1023 have
    # none): a heavy-tailed count, and rows with a larger count more often memorized above.
    os.makedirs(os.path.join(root, "dedup"), exist_ok=True)
    with gzip.GzipFile(os.path.join(root, "dedup", "dedup_counts.csv.gz"), "wb", mtime=0) as f:
        f.write("".join(f"{i},{1 + int(strength[i] ** 4 * 100)}\n" for i in range(1000)).encode())
    with open(os.path.join(root, "README.md"), "w") as f:
        f.write("# analysis-tree\n\nSynthetic sweep tree for `pythia-harness analyze`, written by "
                "`tests/reference/make_analysis_tree.py` (seed %d). The golden analysis is "
                "`tests/fixtures/golden/analysis/analysis-tree.json`, written by "
                "`tests/reference/cross_checkpoint_reference.py` (brute force with Python sets); "
                "`dedup/dedup_counts.csv.gz` holds synthetic duplicate counts for `analyze --dedup-counts` "
                "(golden `analysis-tree-dedup.json`).\n" % SEED)


if __name__ == "__main__":
    main()

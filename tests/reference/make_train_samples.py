"""Writes SAMPLE few-shot pools (training splits) into tests/fixtures/tasks (reference script).

The real training files (PIQA train.jsonl + train-labels.lst, WinoGrande train_xl.jsonl +
train_xl-labels.lst, ARC-*-Train.jsonl, SciQ train.json) were not found in the stored public
repositories in the time available (the copies found are Git LFS pointers), so the few-shot
pools under test are SAMPLES in the real layout and file names: every 10th line (from line 5) of
the task's evaluation file, byte for byte (every 2nd record of the SciQ sample). They are NOT the
training splits; they exist so the few-shot readers, the sampler and the goldens have a pool in
the real layout. Because they overlap the evaluated split, lm-eval's exclusion of the scored
document (piqa, winogrande: fewshot split == test split == null) is exercised.
"""
import gzip
import json
import os
import sys

D = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures", "tasks")


def lines(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8", newline="") as f:
        return f.read().splitlines(keepends=True)


def pick(xs):
    return xs[5::10]


def write(path, ls):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.writelines(ls)


def find(*p):
    path = os.path.join(D, *p)
    return path if os.path.exists(path) else path + ".gz"


write(os.path.join(D, "piqa/train.jsonl"), pick(lines(find("piqa/valid.jsonl"))))
write(os.path.join(D, "piqa/train-labels.lst"), pick(lines(find("piqa/valid-labels.lst"))))
write(os.path.join(D, "winogrande/train_xl.jsonl"), pick(lines(find("winogrande/dev.jsonl"))))
write(os.path.join(D, "winogrande/train_xl-labels.lst"), pick(lines(find("winogrande/dev-labels.lst"))))
write(os.path.join(D, "arc_easy/ARC-Easy-Train.jsonl"), pick(lines(find("arc_easy/ARC-Easy-Test.jsonl"))))
write(os.path.join(D, "arc_challenge/ARC-Challenge-Train.jsonl"), pick(lines(find("arc_challenge/ARC-Challenge-Test.jsonl"))))
with open(find("sciq/test.json"), encoding="utf-8") as f:
    sciq = json.load(f)
with open(os.path.join(D, "sciq/train.json"), "w", encoding="utf-8") as f:
    json.dump(sciq[::2], f, indent=1, ensure_ascii=False)

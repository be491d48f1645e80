"""MMLU goldens by lm-evaluation-harness 4e7e0d4 itself (reference script, outside the product).

Registers the local MMLU files as the Hub dataset `cais/mmlu` (one config per subject, splits
`test` and `dev`; rows {question, subject, choices, answer:int} as the Hub parquet holds them) and
then runs make_goldens.py unchanged (same options):

  NODE_PATH=... /usr/bin/python3 tests/reference/make_mmlu_goldens.py --data-dir tests/fixtures/tasks \
      --tasks mmlu --num-fewshot 5 --limit 20 --bootstrap-iters 0 --out OUT

Layout read (`<data_dir>/mmlu/`): `test/<subject>_test.csv`, `dev/<subject>_dev.csv`, either the
`cais/mmlu` dump layout (header `question,choice0,choice1,choice2,choice3,answer`, answer 0-3) or
Hendrycks' original data.tar layout (no header, answer letter A-D). Parsed with Python's csv module
(independent of the C++ reader). `--tasks mmlu` (the group) is expanded by lm-eval's TaskManager;
make_goldens.py writes one requests/docs file per subject and results.json with the group rows.
"""
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lmeval_env  # noqa: F401,E402  (stand-ins first)
import local_data  # noqa: E402
from lmeval_env import register  # noqa: E402

SUBJECTS = None  # filled from the test folder


def read_mmlu_csv(path, subject):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if rows and rows[0] == ["question", "choice0", "choice1", "choice2", "choice3", "answer"]:
        rows = rows[1:]
        conv = int
    else:
        conv = "ABCD".index
    out = []
    for r in rows:
        assert len(r) == 6, (path, r)
        out.append({"question": r[0], "subject": subject, "choices": r[1:5], "answer": conv(r[5])})
    return out


def register_mmlu(data_dir):
    root = os.path.join(data_dir, "mmlu")
    subjects = sorted(fn[: -len("_test.csv")] for fn in os.listdir(os.path.join(root, "test"))
                      if fn.endswith("_test.csv"))
    for s in subjects:
        register("cais/mmlu", s, {
            "test": (lambda s=s: read_mmlu_csv(os.path.join(root, "test", s + "_test.csv"), s)),
            "dev": (lambda s=s: read_mmlu_csv(os.path.join(root, "dev", s + "_dev.csv"), s)),
            "validation": list,
        })


_orig = local_data.register_all


def _register_all(data_dir):
    _orig(data_dir)
    register_mmlu(data_dir)


local_data.register_all = _register_all

def _flat(d):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v))
        else:
            out[k] = v
    return out


if __name__ == "__main__":
    import lm_eval.tasks
    import make_goldens
    _gtd = lm_eval.tasks.get_task_dict
    # make_goldens looks the scored tasks up by name: the group's nested dict, flattened to leaves
    lm_eval.tasks.get_task_dict = lambda *a, **k: _flat(_gtd(*a, **k))
    make_goldens.main()

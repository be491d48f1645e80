"""Reference environment (outside the product): lm-evaluation-harness imported from a checkout,
with the packages that cannot be installed here replaced by minimal stand-ins, and HF `datasets`
replaced by a loader of the local evaluation files.

Pinned reference: EleutherAI/lm-evaluation-harness commit 4e7e0d47f33bc71070c1d38394bafbb52b117163
(LM_EVAL_COMMIT), extracted with `git archive` into $LM_EVAL_DIR (setup: tests/reference/README.md).
Interpreter: Debian's /usr/bin/python3 (3.11) with apt's python3-torch 1.13, numpy 1.24, yaml,
jinja2, pandas, tqdm, sqlitedict, dill, more-itertools, filelock, packaging.

Stand-ins (each the least that lets lm-eval import; none is called on the code paths used):
- `datasets`: `load_dataset(path, name)` returns the splits of the local files (DATA below), as
  lists of dicts in the layout of the Hub dataset; `Dataset` keeps `features` and `map` for
  lm-eval's `process_docs`. This is the only stand-in whose output lm-eval uses.
- `sacrebleu`, `evaluate`, `accelerate`, `datasets.utils.metadata`: import-only (bleu/chrf/ter,
  HF metrics, multi-GPU, pushing results to the Hub).
- `typing_extensions`: the real module at tag 4.15.0 (9d1637e2), put in $REF_SITE by
  setup_env.sh, ahead of Debian's 4.4, which lacks TypedDict `extra_items` (result_schema.py).
"""
import json
import os
import sys
import types

LM_EVAL_COMMIT = "4e7e0d47f33bc71070c1d38394bafbb52b117163"
LM_EVAL_DIR = os.environ.get("LM_EVAL_DIR", "/work/scratch-fewshot/lm-eval")
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FIXTURE_TASKS = os.path.join(REPO, "tests", "fixtures", "tasks")


# ---------------------------------------------------------------- import stand-ins
def _stub_module(name, **attrs):
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    mod.__stub__ = True
    sys.modules[name] = mod
    return mod


sys.path.insert(0, os.environ.get("REF_SITE", "/work/scratch-fewshot/site"))
import typing_extensions  # noqa: E402

assert typing_extensions.__file__.startswith(sys.path[0]), "run setup_env.sh (typing_extensions 4.15)"

_stub_module("sacrebleu", corpus_bleu=None, corpus_chrf=None, corpus_ter=None)
_stub_module("evaluate", load=None)
_stub_module("accelerate", Accelerator=None, find_executable_batch_size=None,
             InitProcessGroupKwargs=None, DistributedType=None)


class Dataset(list):
    """A split: list of row dicts with the attributes lm-eval touches."""

    def __init__(self, rows):
        super().__init__(rows)
        self.features = {k: None for k in (rows[0].keys() if rows else [])}

    def map(self, fn, **kwargs):
        return Dataset([fn(dict(r)) for r in self])

    def filter(self, fn, **kwargs):
        return Dataset([r for r in self if fn(r)])

    @property
    def column_names(self):
        return list(self.features)


class DatasetDict(dict):
    pass


DATA = {}  # (path, name) -> {split: callable returning rows}


def register(path, name, splits):
    DATA[(path, name)] = splits


def load_dataset(path=None, name=None, **kwargs):
    key = (path, name)
    if key not in DATA:
        raise FileNotFoundError(f"no local data registered for dataset {path!r} config {name!r}")
    return DatasetDict({split: Dataset(fn()) for split, fn in DATA[key].items()})


_ds = _stub_module("datasets", load_dataset=load_dataset, Dataset=Dataset, DatasetDict=DatasetDict,
                   __version__="2.19.0", disable_caching=lambda: None,
                   get_dataset_config_names=lambda *a, **k: [])
_ds.__path__ = []  # a package, for `datasets.utils.metadata` (imported by the results logger)
_ds.utils = _stub_module("datasets.utils")
_ds.utils.__path__ = []
_ds.utils.metadata = _stub_module("datasets.utils.metadata", MetadataConfigs=None)

sys.path.insert(0, LM_EVAL_DIR)


# ---------------------------------------------------------------- local files -> Hub layout
def open_text(path):
    import gzip
    if os.path.exists(path):
        return open(path, encoding="utf-8")
    if os.path.exists(path + ".gz"):
        return gzip.open(path + ".gz", "rt", encoding="utf-8")
    raise FileNotFoundError(path)


def jsonl(path):
    with open_text(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def labels(path):
    with open_text(path) as f:
        return [line.strip() for line in f if line.strip()]

"""Validates this reference against the zero-shot goldens made with the real transformers 4.40.2 +
HFLM (shared/golden/tasks, copied in tests/fixtures/golden/tasks): every request's strings and token
ids must be identical, logprobs within |d| <= max(1e-4, 1e-6|lp|), is_greedy identical, and the
aggregate metrics within 1e-6 (acc) / 1e-4 relative. Usage: check_reference.py NEW_DIR GOLDEN_DIR
(NEW_DIR from make_goldens.py --num-fewshot 0 on the same model and data; with --limit only those
documents are compared and aggregates are skipped). Exit 1 on a mismatch.
"""
import gzip
import json
import os
import sys


def load(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(l) for l in f]


def main(new, gold):
    bad = 0
    worst = 0.0
    for fn in sorted(os.listdir(gold)):
        if not fn.endswith(".requests.jsonl.gz") or not os.path.exists(os.path.join(new, fn)):
            continue
        a, b = load(os.path.join(new, fn)), load(os.path.join(gold, fn))
        docs = {x["doc_id"] for x in a}  # a --limit run: compare its documents only
        b = [y for y in b if y["doc_id"] in docs]
        if len(a) != len(b):
            print(fn, "count", len(a), len(b)); bad += 1; continue
        for x, y in zip(a, b):
            keys = ("text", "token_ids") if "windows" in y else ("context", "continuation", "context_ids", "continuation_ids", "is_greedy")
            for k in keys + ("doc_id", "idx"):
                if x[k] != y[k]:
                    print(fn, y["doc_id"], y["idx"], k, "differs"); bad += 1
            pairs = [(x["logprob"], y["logprob"])]
            if "windows" in y:
                pairs += [(u["logprob"], v["logprob"]) for u, v in zip(x["windows"], y["windows"])]
                if [w["continuation_ids"] for w in x["windows"]] != [w["continuation_ids"] for w in y["windows"]]:
                    print(fn, y["doc_id"], "windows differ"); bad += 1
            for p, q in pairs:
                d = abs(p - q)
                worst = max(worst, d / max(1e-4, 1e-6 * abs(q)))
                if d > max(1e-4, 1e-6 * abs(q)):
                    print(fn, y["doc_id"], y["idx"], "logprob", p, q); bad += 1
        print(fn, len(a), "requests checked")
    ra = json.load(open(os.path.join(new, "results.json")))["results"]
    rb = json.load(open(os.path.join(gold, "results.json")))["results"]
    na = json.load(open(os.path.join(new, "results.json")))["n-samples"]
    for t in ra:
        if na[t]["effective"] != na[t]["original"]:
            continue  # limited run: aggregates are over other documents than the golden's
        for k, v in rb.get(t, {}).items():
            if isinstance(v, float):
                w = ra[t][k]
                tol = 1e-6 if k.startswith("acc") else 1e-4 * abs(v)
                if abs(w - v) > tol:
                    print("aggregate", t, k, w, v); bad += 1
    print("worst logprob error / tolerance:", worst, "mismatches:", bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

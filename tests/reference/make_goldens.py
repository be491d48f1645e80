"""Run lm-evaluation-harness (commit 4e7e0d4, see lmeval_env.py) end to end on local data and write
task goldens (reference script, outside the product).

  NODE_PATH=... /usr/bin/python3 make_goldens.py --data-dir tests/fixtures/tasks \
      --model tests/fixtures/pythia-tiny --num-fewshot 5 --tasks piqa,arc_easy --out OUT

`simple_evaluate` (lm-eval's own: TaskManager, task YAMLs, num_fewshot override, fewshot seed 1234,
build_all_requests -> fewshot_context -> sampler, construct_requests, process_results, aggregation,
stderr) runs with ReferenceLM (reference_lm.py). `--model none` writes requests only (logprob 0).
Writes per task: <task>.requests.jsonl.gz (lm-eval order: doc_id, then idx; fields as in
shared/golden/tasks/README.md), <task>.docs.jsonl.gz (doc_id, target, the per-document metric
values lm-eval computed) and results.json (lm-eval's results dict: results, versions, n-shot,
n-samples, configs, config; machine-specific fields dropped), plus run_info.json.
"""
import argparse
import gzip
import hashlib
import json
import os
import sys
import time

import lmeval_env  # noqa: F401  (stand-ins first)
import local_data
from reference_lm import ReferenceLM
from tokenizer_bridge import NeoxTokenizer


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--model", default="none")
    ap.add_argument("--tasks", required=True)
    ap.add_argument("--num-fewshot", type=int, default=0)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--bootstrap-iters", type=int, default=100000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokenizer", default=os.environ.get("TOKENIZER", "/work/scratch-fewshot/20B_tokenizer.json"))
    ap.add_argument("--node-path", default=os.environ.get("NODE_PATH", "/work/scratch-fewshot/node_modules"))
    a = ap.parse_args()

    import torch
    torch.set_num_threads(1)
    from lm_eval import evaluator
    from lm_eval.tasks import TaskManager

    local_data.register_all(a.data_dir)
    model = None
    if a.model != "none":
        from gptneox_torch import GPTNeoX
        model = GPTNeoX(a.model)
    tok = NeoxTokenizer(a.tokenizer, a.node_path)
    lm = ReferenceLM(tok, model)
    tasks = a.tasks.split(",")
    t0 = time.time()
    res = evaluator.simple_evaluate(
        model=lm, tasks=tasks, num_fewshot=a.num_fewshot, limit=a.limit,
        bootstrap_iters=a.bootstrap_iters, log_samples=True, task_manager=TaskManager(),
        random_seed=0, numpy_random_seed=1234, torch_random_seed=1234, fewshot_random_seed=1234)
    os.makedirs(a.out, exist_ok=True)
    samples = res.pop("samples")
    by_task = {}
    for rec in lm.records:
        by_task.setdefault(rec["task"], []).append(rec)
    for task, recs in by_task.items():
        recs.sort(key=lambda r: (r["doc_id"], r["idx"]))
        with gzip.GzipFile(os.path.join(a.out, f"{task}.requests.jsonl.gz"), "wb", mtime=0) as f:
            for r in recs:
                line = {"task": task, "doc_id": r["doc_id"], "idx": r["idx"]}
                if "windows" in r:
                    line.update(request_type="loglikelihood_rolling", text=r["text"], token_ids=r["token_ids"],
                                n_tokens=r["n_tokens"], windows=r["windows"], logprob=r["logprob"])
                else:
                    line.update(request_type="loglikelihood", context=r["context"], continuation=r["continuation"],
                                context_ids=r["context_ids"], continuation_ids=r["continuation_ids"],
                                truncated_left=r["truncated_left"], logprob=r["logprob"], is_greedy=r["is_greedy"])
                if model is None:  # requests only: no numbers
                    line.pop("logprob", None)
                    line.pop("is_greedy", None)
                    for w in line.get("windows", []):
                        w.pop("logprob", None)
                        w.pop("is_greedy", None)
                f.write((json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8"))
    # gold / choices as process_results uses them (doc_to_text for multiple-input tasks)
    from lm_eval.tasks import get_task_dict
    tdict = get_task_dict(tasks, TaskManager())
    for task, docs in samples.items():
        metrics = list(res["higher_is_better"][task])
        tobj = tdict[task]
        eval_docs = list(tobj.eval_docs)
        with gzip.GzipFile(os.path.join(a.out, f"{task}.docs.jsonl.gz"), "wb", mtime=0) as f:
            for s in sorted(docs, key=lambda s: s["doc_id"]):
                line = {"task": task, "doc_id": s["doc_id"], "target": s["target"]}
                if tobj.OUTPUT_TYPE == "multiple_choice":
                    doc = eval_docs[s["doc_id"]]
                    line["gold"] = tobj.doc_to_text(doc) if tobj.multiple_input else tobj.doc_to_target(doc)
                    line["choices"] = tobj.doc_to_choice(doc)
                if model is not None:
                    line.update({m: s[m] for m in metrics})
                f.write((json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8"))
    keep = ("results", "groups", "group_subtasks", "configs", "versions", "n-shot", "higher_is_better", "n-samples")
    out = {k: res[k] for k in keep if k in res}
    cfg = dict(res.get("config", {}))
    cfg.pop("model", None)
    out["config"] = cfg
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(out, f, indent=2, ensure_ascii=False, default=str)
    inputs = {}
    for root, _, files in os.walk(a.data_dir):
        for fn in sorted(files):
            p = os.path.join(root, fn)
            inputs[os.path.relpath(p, a.data_dir)] = sha256(p)
    info = {"lm_eval_commit": lmeval_env.LM_EVAL_COMMIT, "model": a.model,
            "model_sha256": sha256(os.path.join(a.model, "model.safetensors")) if model else None,
            "num_fewshot": a.num_fewshot, "tasks": tasks, "limit": a.limit,
            "bootstrap_iters": a.bootstrap_iters, "fewshot_seed": 1234, "data_sha256": inputs,
            "python": sys.version.split()[0], "torch": torch.__version__,
            "seconds": round(time.time() - t0, 1), "command": " ".join(sys.argv)}
    with open(os.path.join(a.out, "run_info.json"), "w") as f:
        json.dump(info, f, indent=2)
    tok.close()


if __name__ == "__main__":
    main()

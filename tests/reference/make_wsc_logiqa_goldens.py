"""Goldens for `wsc` and `logiqa` from lm-evaluation-harness itself (commit 4e7e0d4; reference
script, outside the product). The same run as make_goldens.py (simple_evaluate with ReferenceLM,
seed 1234; all its options), with two more local datasets registered for the `datasets` stand-in:

- `aps/super_glue` config `wsc.fixed` (lm_eval/tasks/super_glue/wsc/default.yaml): SuperGLUE v2
  WSC `train.jsonl` / `val.jsonl` rows as the Hugging Face super_glue dataset script builds them:
  `target` merged into the row, the `wsc.fixed` span repair (restated below), `idx`, `label` as the
  ClassLabel index (False 0, True 1). The test split has no labels and is not registered.
- `EleutherAI/logiqa` config `logiqa` (lm_eval/tasks/logiqa/logiqa.yaml): LogiQA `Train.txt`,
  `Eval.txt`, `Test.txt` parsed as that Hub dataset's script does (= lm-eval v0.3
  lm_eval/datasets/logiqa/logiqa.py, restated below).

  NODE_PATH=/work/scratch-fewshot/node_modules /usr/bin/python3 tests/reference/make_wsc_logiqa_goldens.py \
      --data-dir tests/fixtures/tasks --tasks wsc,logiqa --num-fewshot 5 --out OUT [--model M --limit N]

With a model, ReferenceLM._score is replaced by _score_last_rows (same numbers up to the float
summation order of the output projection; REF_FULL_SCORE=1 keeps the original).
"""
import os

import lmeval_env
import local_data
import make_goldens


def _wsc_fixed(ex):
    """super_glue.py `_fix_wst`: a span text not found in the text gets the case of the text's
    word at the span index, loses trailing dots and has newlines turned into spaces. Kept as in
    the script: the 'theyscold' branch only sets span2_index (its str.replace result is unused)."""
    for k in ("span1", "span2"):
        text, index = ex[k + "_text"], ex[k + "_index"]
        if text in ex["text"] or text in ("Kamenev and Zinoviev", "Kamenev, Zinoviev, and Stalin"):
            continue
        if "theyscold" in text:
            ex["span2_index"] = 10
        word = ex["text"].split()[index]
        text = (text[0].lower() if word[0].islower() else text[0].upper()) + text[1:]
        text = text.rstrip(".").replace("\n", " ")
        assert text in ex["text"], ex
        ex[k + "_text"] = text
    return ex


def _wsc(path):
    rows = []
    for r in lmeval_env.jsonl(path):
        t = r["target"]
        ex = {"text": r["text"], "span1_index": t["span1_index"], "span2_index": t["span2_index"],
              "span1_text": t["span1_text"], "span2_text": t["span2_text"]}
        ex = _wsc_fixed(ex)
        ex["idx"] = r["idx"]
        ex["label"] = 1 if r["label"] else 0
        rows.append(ex)
    return rows


def _logiqa(path):
    def norm(s):
        return s.replace(".", ". ").strip()

    with lmeval_env.open_text(path) as f:  # text mode: universal newlines, as the script reads it
        records = f.read().strip().split("\n\n")
    out = []
    for rec in records:
        lines = rec.split("\n")
        out.append({"label": lines[0].strip(), "context": norm(lines[1]), "question": norm(lines[2]),
                    "options": [norm(o[2:]) for o in lines[3:]]})
    return out


def register_wsc_logiqa(data_dir):
    d = lambda *p: os.path.join(data_dir, *p)  # noqa: E731

    def present(path, fn):
        return fn if (os.path.exists(path) or os.path.exists(path + ".gz")) else list

    lmeval_env.register("aps/super_glue", "wsc.fixed", {
        "train": present(d("wsc", "train.jsonl"), lambda: _wsc(d("wsc", "train.jsonl"))),
        "validation": present(d("wsc", "val.jsonl"), lambda: _wsc(d("wsc", "val.jsonl")))})
    lmeval_env.register("EleutherAI/logiqa", "logiqa", {
        s: present(d("logiqa", f), (lambda p=d("logiqa", f): _logiqa(p)))
        for s, f in (("train", "Train.txt"), ("validation", "Eval.txt"), ("test", "Test.txt"))})


def _score_last_rows(self, context_enc, continuation_enc):
    """ReferenceLM._score with the output projection computed only for the n positions it keeps
    (the logits of the other rows are discarded there anyway; hidden states, layer norms and the
    log_softmax are the same). Only for speed: on this shared machine the full 50304-wide
    projection of every position made a five-shot logiqa request take seconds. Checked against
    the unmodified _score (REF_FULL_SCORE=1; result in the goldens' README)."""
    import torch
    import torch.nn.functional as F

    whole = (context_enc + continuation_enc)[-(self.max_length + 1):]
    truncated = len(context_enc) + len(continuation_enc) - len(whole)
    n = len(continuation_enc)
    if self.model is None:
        return 0.0, False, truncated
    m = self.model
    proj = m.w["embed_out.weight"]
    m.w["embed_out.weight"] = torch.eye(proj.shape[1])  # logits() then returns the final hidden states
    try:
        h = m.logits(whole[:-1])
    finally:
        m.w["embed_out.weight"] = proj
    logits = F.linear(h[-n:], proj)
    logsm = torch.log_softmax(logits, dim=-1)
    cont = torch.tensor(continuation_enc, dtype=torch.long)
    greedy = bool((logits.argmax(dim=-1) == cont).all())
    lp = float(logsm.gather(1, cont[:, None]).squeeze(1).sum())
    return lp, greedy, truncated


_register_all = local_data.register_all


def _register_all_and_ours(data_dir):
    _register_all(data_dir)
    register_wsc_logiqa(data_dir)


local_data.register_all = _register_all_and_ours

if __name__ == "__main__":
    if os.environ.get("REF_FULL_SCORE") != "1":
        import reference_lm
        reference_lm.ReferenceLM._score = _score_last_rows
    make_goldens.main()

"""Local evaluation files -> the rows of the Hub datasets lm-eval's task YAMLs name (our glue,
not lm-eval). Layout of `data_dir`: `<task>/<original file name>[.gz]`, as `eval --data-dir`
reads it (tests/fixtures/tasks). Conversions are those of shared/data/tasks/SOURCES.md:
PIQA jsonl + labels -> {goal, sol1, sol2, label:int}; WinoGrande: qID dropped, answer string;
ARC: question.stem -> question, choices -> {text:[...], label:[...]}; SciQ: the JSON array as is;
LAMBADA: {text}; WikiText: documents cut by lm-eval v0.3.0's own wikitext loading script rule.
A split whose file is absent is registered empty (lm-eval builds its sampler at task
construction even for zero-shot); drawing few-shot examples from it fails in lm-eval's sampler.
"""
import json
import os

from lmeval_env import jsonl, labels, open_text, register


def _exists(path):
    return os.path.exists(path) or os.path.exists(path + ".gz")


def _piqa(stem):
    rows = jsonl(stem + ".jsonl")
    labs = labels(stem + "-labels.lst")
    assert len(rows) == len(labs), stem
    return [{"goal": r["goal"], "sol1": r["sol1"], "sol2": r["sol2"], "label": int(l)}
            for r, l in zip(rows, labs)]


def _winogrande(stem):
    rows = jsonl(stem + ".jsonl")
    return [{"sentence": r["sentence"], "option1": r["option1"], "option2": r["option2"],
             "answer": r["answer"]} for r in rows]


def _arc(path):
    out = []
    for r in jsonl(path):
        q = r["question"]
        out.append({"id": r["id"], "question": q["stem"],
                    "choices": {"text": [c["text"] for c in q["choices"]],
                                "label": [c["label"] for c in q["choices"]]},
                    "answerKey": r["answerKey"]})
    return out


def _json_array(path):
    with open_text(path) as f:
        return json.load(f)


def _wikitext(path):
    # lm-eval v0.3.0 lm_eval/datasets/wikitext/wikitext.py _generate_examples (document level),
    # as stated in shared/data/tasks/SOURCES.md ("wikitext")
    with open_text(path) as f:
        data = f.read().split("\n")
    out, buf = [], []
    for line in data:
        r = line.replace("= = =", "===").replace("= =", "==").strip()
        if r.startswith("= ") and r.endswith(" ="):
            text = "\n".join(buf)
            if text.strip():
                out.append({"page": text})
            buf = []
        buf.append(line)
    out.append({"page": "\n".join(buf)})
    return out


def register_all(data_dir):
    d = lambda *p: os.path.join(data_dir, *p)  # noqa: E731

    def splits(**files):
        return {s: (fn if _exists(path) else list) for s, (path, fn) in files.items()}

    register("EleutherAI/lambada_openai", "default", splits(
        test=(d("lambada_openai", "lambada_test.jsonl"),
              lambda: [{"text": r["text"]} for r in jsonl(d("lambada_openai", "lambada_test.jsonl"))])))
    register("baber/piqa", None, splits(
        train=(d("piqa", "train.jsonl"), lambda: _piqa(d("piqa", "train"))),
        validation=(d("piqa", "valid.jsonl"), lambda: _piqa(d("piqa", "valid")))))
    register("allenai/winogrande", "winogrande_xl", splits(
        train=(d("winogrande", "train_xl.jsonl"), lambda: _winogrande(d("winogrande", "train_xl"))),
        validation=(d("winogrande", "dev.jsonl"), lambda: _winogrande(d("winogrande", "dev")))))
    for cfg, task in (("ARC-Easy", "arc_easy"), ("ARC-Challenge", "arc_challenge")):
        register("allenai/ai2_arc", cfg, splits(**{
            s: (d(task, f"{cfg}-{f}.jsonl"), (lambda p=d(task, f"{cfg}-{f}.jsonl"): _arc(p)))
            for s, f in (("train", "Train"), ("validation", "Dev"), ("test", "Test"))}))
    register("allenai/sciq", None, splits(**{
        s: (d("sciq", f + ".json"), (lambda p=d("sciq", f + ".json"): _json_array(p)))
        for s, f in (("train", "train"), ("validation", "valid"), ("test", "test"))}))
    register("EleutherAI/wikitext_document_level", "wikitext-2-raw-v1", splits(**{
        s: (d("wikitext", f"wiki.{f}.raw"), (lambda p=d("wikitext", f"wiki.{f}.raw"): _wikitext(p)))
        for s, f in (("train", "train"), ("validation", "valid"), ("test", "test"))}))

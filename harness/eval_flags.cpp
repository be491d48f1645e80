#include "harness/eval_flags.h"

#include <boost/program_options.hpp>
#include <cstdlib>

#include "data/error.h"
#include "tasks/registry.h"

namespace pythia::harness {
namespace po = boost::program_options;

void add_eval_options(po::options_description& desc, EvalFlags& o) {
  std::string names;
  for (const auto& n : tasks::task_names()) names += (names.empty() ? "" : ", ") + n;
  desc.add_options()
      ("tasks", po::value(&o.tasks)->default_value(o.tasks),
       ("comma-separated lm-evaluation-harness task names, or 'all' (" + names +
        "), mmlu_<subject> (one of the 57 MMLU subjects, e.g. mmlu_anatomy), 'mmlu' (all 57; "
        "results.json then also holds lm-eval's group rows mmlu, mmlu_stem, mmlu_other, "
        "mmlu_social_sciences, mmlu_humanities), or 'pythia': the suite of Pythia's published "
        "evals/ (lambada_openai, piqa, winogrande, wsc, arc_easy, arc_challenge, sciq, logiqa and "
        "the 57 mmlu_<subject> tasks; an error lists any of them this build lacks); prompts and "
        "metrics of lm-eval v0.4").c_str())
      ("num-fewshot", po::value(&o.num_fewshot)->default_value(o.num_fewshot),
       "K examples before every prompt, drawn as lm-eval v0.4 does (fewshot seed 1234, one "
       "generator per task in document order; from the training split — piqa/train.jsonl + "
       "train-labels.lst, winogrande/train_xl.jsonl + train_xl-labels.lst, "
       "arc_*/ARC-*-Train.jsonl, sciq/train.json, wsc/train.jsonl, logiqa/Train.txt — or, for "
       "lambada_openai, its own test split; "
       "MMLU: the first K rows of mmlu/dev/<subject>_dev.csv after the subject's description; "
       "wikitext ignores it). Recorded as num_fewshot / n-shot in results.json")
      ("limit", po::value(&o.limit)->default_value(o.limit),
       "evaluate only the first N documents of each task (lm-eval --limit); -1 = all")
      ("data-dir", po::value(&o.data_dir),
       "task data in the original distribution layout: DIR/<task>/<file>, plain or .gz — "
       "lambada_openai/lambada_test.jsonl, piqa/valid.jsonl + valid-labels.lst, "
       "winogrande/dev.jsonl + dev-labels.lst, arc_easy/ARC-Easy-Test.jsonl, "
       "arc_challenge/ARC-Challenge-Test.jsonl, sciq/test.json, wsc/val.jsonl (SuperGLUE WSC), "
       "logiqa/Test.txt (LogiQA release), wikitext/wiki.test.raw, "
       "mmlu/test/<subject>_test.csv (+ mmlu/dev/<subject>_dev.csv). "
       "Default: $PYTHIA_DATA_DIR, else ./data/tasks. (The repository's tests/fixtures/tasks "
       "has the real evaluation files of seven of them and SAMPLE sciq/wikitext files for tests "
       "only.)")
      ("output", po::value(&o.output)->default_value(o.output),
       "results root: writes OUTPUT/<model>/<revision>/results.json (see --published-names)")
      ("log-samples", po::bool_switch(&o.log_samples),
       "also write OUTPUT/<model>/<revision>/samples_<task>.jsonl: every request with its "
       "context/continuation strings, token ids, logprob and is_greedy (rolling: windows)")
      ("format", po::value(&o.format)->default_value(o.format),
       "results layout: 'lm-eval' (lm-evaluation-harness v0.4 results file) or 'pythia-v0' "
       "(the v0.3/hf-causal layout of Pythia's published evals/, key for key and in the published "
       "key order, so `diff` against a published file shows only numbers and values that truly "
       "differ (model_args, device, batch_size; task order, which is random in published files): "
       "results{task:{metric, metric_stderr}} with bare metric names and ppl, integer versions, "
       "config{model: hf-causal, model_args, num_fewshot, batch_size, device, no_cache, limit, "
       "bootstrap_iters, description_dict}; bootstrap over v0.3's seed-42 shuffled document "
       "order). Prompts, tokenization and --limit (first N documents in dataset order) stay "
       "lm-eval v0.4's")
      ("published-names", po::bool_switch(&o.published_names),
       "with --format pythia-v0: name the file as Pythia's evals/ does, "
       "OUTPUT/<model>/<revision>/<size>_step<N>.json (zero-shot) or <size>-<K>shot_step<N>.json "
       "(K-shot), <size> being the model name without 'pythia-' (e.g. 160m_step3000.json, "
       "160m-5shot_step3000.json), instead of results.json; the revision must be stepN")
      ("bootstrap-iters", po::value(&o.bootstrap_iters)->default_value(o.bootstrap_iters),
       "bootstrap resamples for the lambada perplexity stderr (lm-eval default 100000; 0 = "
       "no stderrs, 'N/A')");
}

std::filesystem::path default_data_dir() {
  if (const char* env = std::getenv("PYTHIA_DATA_DIR"); env != nullptr && *env != '\0') return env;
  return "data/tasks";
}

eval::EvalPlan to_eval_plan(const EvalFlags& f) {
  eval::EvalPlan p;
  p.tasks = tasks::parse_task_list(f.tasks);
  if (f.limit < -1 || f.limit == 0) throw UsageError("--limit must be a positive count (or -1 = all)");
  if (f.limit > 0) p.limit = f.limit;
  p.data_dir = f.data_dir.empty() ? default_data_dir() : std::filesystem::path(f.data_dir);
  p.output = f.output;
  p.log_samples = f.log_samples;
  p.format = results::parse_results_layout(f.format);
  p.published_names = f.published_names;
  p.bootstrap_iters = f.bootstrap_iters;
  p.num_fewshot = f.num_fewshot;
  p.validate();
  return p;
}

}  // namespace pythia::harness

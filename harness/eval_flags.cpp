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
        "); prompts and metrics of lm-eval v0.4").c_str())
      ("num-fewshot", po::value(&o.num_fewshot)->default_value(o.num_fewshot),
       "K examples before every prompt, drawn as lm-eval v0.4 does (fewshot seed 1234, one "
       "generator per task in document order; from the training split — piqa/train.jsonl + "
       "train-labels.lst, winogrande/train_xl.jsonl + train_xl-labels.lst, "
       "arc_*/ARC-*-Train.jsonl, sciq/train.json — or, for lambada_openai, its own test split; "
       "wikitext ignores it). Recorded as num_fewshot / n-shot in results.json")
      ("limit", po::value(&o.limit)->default_value(o.limit),
       "evaluate only the first N documents of each task (lm-eval --limit); -1 = all")
      ("data-dir", po::value(&o.data_dir),
       "task data in the original distribution layout: DIR/<task>/<file>, plain or .gz — "
       "lambada_openai/lambada_test.jsonl, piqa/valid.jsonl + valid-labels.lst, "
       "winogrande/dev.jsonl + dev-labels.lst, arc_easy/ARC-Easy-Test.jsonl, "
       "arc_challenge/ARC-Challenge-Test.jsonl, sciq/test.json, wikitext/wiki.test.raw. "
       "Default: $PYTHIA_DATA_DIR, else ./data/tasks. (The repository's tests/fixtures/tasks "
       "has the five real data sets and SAMPLE sciq/wikitext files for tests only.)")
      ("output", po::value(&o.output)->default_value(o.output),
       "results root: writes OUTPUT/<model>/<revision>/results.json")
      ("log-samples", po::bool_switch(&o.log_samples),
       "also write OUTPUT/<model>/<revision>/samples_<task>.jsonl: every request with its "
       "context/continuation strings, token ids, logprob and is_greedy (rolling: windows)")
      ("format", po::value(&o.format)->default_value(o.format),
       "results layout: 'lm-eval' (lm-evaluation-harness v0.4 results file) or 'pythia-v0' "
       "(the v0.3/hf-causal layout of Pythia's published evals: bare metric names, ppl, "
       "versions 0 / wikitext 1, bootstrap over v0.3's seed-42 shuffled document order). Prompts, "
       "tokenization and --limit (first N documents in dataset order) stay lm-eval v0.4's")
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
  p.bootstrap_iters = f.bootstrap_iters;
  p.num_fewshot = f.num_fewshot;
  p.validate();
  return p;
}

}  // namespace pythia::harness

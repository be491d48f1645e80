// EvalPlan: the lm-evaluation-harness tasks one `eval` (or each `sweep` checkpoint) runs, typed and
// validated before any model loads (harness/eval_flags.cpp binds the command-line flags into it).
//
//   EvalPlan p;  p.tasks = tasks::parse_task_list("piqa,arc_easy");  p.validate();
//   p.to_json()   // the run identity: every field that changes what is written, fixed key order
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/memory_check.h"
#include "results/eval_results.h"

namespace pythia::eval {

struct EvalPlan {
  std::vector<std::string> tasks;            // lm-eval task names (tasks/registry.h), in run order
  std::optional<std::int64_t> limit;         // first N documents per task (lm-eval --limit)
  std::filesystem::path data_dir;            // task data in the original layout (data/task_data.h)
  std::filesystem::path output = "results";  // results root (results/output_layout.h)
  bool log_samples = false;                  // also samples_<task>.jsonl and docs_<task>.jsonl
  results::ResultsLayout format = results::ResultsLayout::kLmEvalV04;
  // pythia-v0 only: name the results file as Pythia's evals/ does ("160m_step3000.json",
  // "160m-5shot_step3000.json"; results/output_layout.h) instead of results.json.
  bool published_names = false;
  std::int64_t bootstrap_iters = 100000;     // lm-eval default; 0 = no bootstrap stderrs
  int num_fewshot = 0;                       // lm-eval --num_fewshot (tasks/fewshot.h), seed 1234
  // "fp32" (exact) or "bf16" (the model computes its large products in bf16: model/gpt_neox.h
  // Compute). Only a label here: the caller passes a model that computes so; results.json then
  // says compute=bf16 in model_args and config (nothing is added for fp32).
  std::string compute = "fp32";

  // Throws UsageError: no tasks, an unknown task, limit < 1, bootstrap_iters < 0, no data_dir,
  // num_fewshot < 0, published_names without the pythia-v0 format.
  void validate() const;
  // tasks, limit, data_dir, format, bootstrap_iters, log_samples, num_fewshot when > 0,
  // published_names when set, and compute when not fp32 (so older identities are unchanged). Not
  // output (where, not what).
  nlohmann::ordered_json to_json() const;
  // The results file name inside results::run_dir(output, model, revision): results.json, or with
  // published_names results::published_eval_file_name(model, step, shots) (`shots`: the file's
  // few-shot count, e.g. a v0.3 run's, which may differ from this plan's num_fewshot). Throws
  // UsageError when published_names is set and `revision` names no step ("stepN"/"global_stepN").
  std::string results_file_name(const std::string& model, const std::string& revision,
                                int shots) const;

  // The KV caches an eval holds at once, for the memory check before loading: one request per
  // thread (eval/request_scoring.cpp), each up to max_position_embeddings positions.
  static model::Workload workload(int threads);
};

}  // namespace pythia::eval

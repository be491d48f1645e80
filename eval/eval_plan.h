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

#include "results/eval_results.h"

namespace pythia::eval {

struct EvalPlan {
  std::vector<std::string> tasks;            // lm-eval task names (tasks/registry.h), in run order
  std::optional<std::int64_t> limit;         // first N documents per task (lm-eval --limit)
  std::filesystem::path data_dir;            // task data in the original layout (data/task_data.h)
  std::filesystem::path output = "results";  // results root (results/output_layout.h)
  bool log_samples = false;                  // also samples_<task>.jsonl and docs_<task>.jsonl
  results::ResultsLayout format = results::ResultsLayout::kLmEvalV04;
  std::int64_t bootstrap_iters = 100000;     // lm-eval default; 0 = no bootstrap stderrs
  // "fp32" (exact) or "bf16" (the model computes its large products in bf16: model/gpt_neox.h
  // Compute). Only a label here: the caller passes a model that computes so; results.json then
  // says compute=bf16 in model_args and config (nothing is added for fp32).
  std::string compute = "fp32";

  // Throws UsageError: no tasks, an unknown task, limit < 1, bootstrap_iters < 0, no data_dir.
  void validate() const;
  // tasks, limit, data_dir, format, bootstrap_iters, log_samples, and compute when not fp32.
  // Not output (where, not what).
  nlohmann::ordered_json to_json() const;
};

}  // namespace pythia::eval

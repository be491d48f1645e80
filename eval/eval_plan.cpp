#include "eval/eval_plan.h"

#include <algorithm>

#include "data/checkpoint_step.h"
#include "data/error.h"
#include "results/output_layout.h"
#include "tasks/registry.h"

namespace pythia::eval {

void EvalPlan::validate() const {
  if (tasks.empty()) throw UsageError("no tasks to evaluate");
  for (const auto& t : tasks) tasks::make_task(t);  // UsageError naming an unknown task
  if (limit && *limit < 1) throw UsageError("--limit must be a positive count (or -1 = all)");
  if (bootstrap_iters < 0) throw UsageError("--bootstrap-iters must be >= 0");
  if (data_dir.empty()) throw UsageError("no task data folder (--data-dir)");
  if (num_fewshot < 0) throw UsageError("--num-fewshot must be >= 0");
  if (published_names && format != results::ResultsLayout::kPythiaV0) {
    throw UsageError("--published-names needs --format pythia-v0 (the layout of those files)");
  }
}

nlohmann::ordered_json EvalPlan::to_json() const {
  nlohmann::ordered_json j = {{"tasks", tasks},
          {"limit", limit ? nlohmann::ordered_json(*limit) : nlohmann::ordered_json(nullptr)},
          {"data_dir", data_dir.string()},
          {"format", results::to_string(format)},
          {"bootstrap_iters", bootstrap_iters},
          {"log_samples", log_samples}};
  if (num_fewshot > 0) j["num_fewshot"] = num_fewshot;
  if (published_names) j["published_names"] = true;  // absent when off: older signatures hold
  if (compute != "fp32") j["compute"] = compute;
  return j;
}

model::Workload EvalPlan::workload(int threads) {
  return {std::max(1, threads), 0,
          "eval: " + std::to_string(std::max(1, threads)) +
              " requests in flight (one per thread) of up to max_position_embeddings positions; fewer "
              "--threads lower them"};
}

std::string EvalPlan::results_file_name(const std::string& model, const std::string& revision,
                                        int shots) const {
  if (!published_names) return results::kEvalResultsJson;
  const auto step = data::step_of_revision(revision);
  if (!step) {
    throw UsageError("--published-names needs a checkpoint revision naming its step (stepN), not '" +
                     results::revision_folder(revision) + "'");
  }
  return results::published_eval_file_name(model, *step, shots);
}

}  // namespace pythia::eval

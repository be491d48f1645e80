#include "eval/eval_plan.h"

#include <algorithm>

#include "data/error.h"
#include "tasks/registry.h"

namespace pythia::eval {

void EvalPlan::validate() const {
  if (tasks.empty()) throw UsageError("no tasks to evaluate");
  for (const auto& t : tasks) tasks::make_task(t);  // UsageError naming an unknown task
  if (limit && *limit < 1) throw UsageError("--limit must be a positive count (or -1 = all)");
  if (bootstrap_iters < 0) throw UsageError("--bootstrap-iters must be >= 0");
  if (data_dir.empty()) throw UsageError("no task data folder (--data-dir)");
  if (num_fewshot < 0) throw UsageError("--num-fewshot must be >= 0");
}

nlohmann::ordered_json EvalPlan::to_json() const {
  nlohmann::ordered_json j = {{"tasks", tasks},
          {"limit", limit ? nlohmann::ordered_json(*limit) : nlohmann::ordered_json(nullptr)},
          {"data_dir", data_dir.string()},
          {"format", results::to_string(format)},
          {"bootstrap_iters", bootstrap_iters},
          {"log_samples", log_samples}};
  if (num_fewshot > 0) j["num_fewshot"] = num_fewshot;
  return j;
}

model::Workload EvalPlan::workload(int threads) {
  return {std::max(1, threads), 0,
          "eval: " + std::to_string(std::max(1, threads)) +
              " requests in flight (one per thread) of up to max_position_embeddings positions"};
}

}  // namespace pythia::eval

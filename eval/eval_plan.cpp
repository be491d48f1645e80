#include "eval/eval_plan.h"

#include "data/error.h"
#include "tasks/registry.h"

namespace pythia::eval {

void EvalPlan::validate() const {
  if (tasks.empty()) throw UsageError("no tasks to evaluate");
  for (const auto& t : tasks) tasks::make_task(t);  // UsageError naming an unknown task
  if (limit && *limit < 1) throw UsageError("--limit must be a positive count (or -1 = all)");
  if (bootstrap_iters < 0) throw UsageError("--bootstrap-iters must be >= 0");
  if (data_dir.empty()) throw UsageError("no task data folder (--data-dir)");
}

nlohmann::ordered_json EvalPlan::to_json() const {
  nlohmann::ordered_json j = {{"tasks", tasks},
          {"limit", limit ? nlohmann::ordered_json(*limit) : nlohmann::ordered_json(nullptr)},
          {"data_dir", data_dir.string()},
          {"format", results::to_string(format)},
          {"bootstrap_iters", bootstrap_iters},
          {"log_samples", log_samples}};
  if (compute != "fp32") j["compute"] = compute;
  return j;
}

}  // namespace pythia::eval

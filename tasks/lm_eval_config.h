// The task config dict lm-eval v0.4 logs in results.json "configs" (TaskConfig.to_dict via
// ConfigurableTask.dump_config, lm_eval/api/task.py, commit 4e7e0d4) for a zero-shot run. Every
// task shares the same defaults (delimiters, fewshot_config, num_fewshot 0, repeats 1, ...); a
// task file states only the fields its YAML sets.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasks/task.h"

namespace pythia::tasks {

// The full config: `own` (the YAML's fields: task, dataset_path, [dataset_name], splits,
// doc_to_text, doc_to_target, [doc_to_choice], [process_results], metric_list, output_type,
// doc_to_decontamination_query) plus lm-eval's zero-shot defaults and
// metadata {version, config_source}. fewshot_config repeats doc_to_text / doc_to_choice (null when
// `own` has none) / doc_to_target unless `fewshot` overrides them (lm-eval logs functions as
// "<function name>" there).
// REQUIRES: `own` and `fewshot` are JSON objects. Pure function.
nlohmann::json zero_shot_config(nlohmann::json own, double version,
                                const std::string& config_source,
                                const nlohmann::json& fewshot = nlohmann::json::object());

// metric_list entries {metric, aggregation, higher_is_better} for `metrics` (aggregation by
// lm-eval name: mean, perplexity, weighted_perplexity, bits_per_byte).
nlohmann::json metric_list(const std::vector<MetricSpec>& metrics);

}  // namespace pythia::tasks

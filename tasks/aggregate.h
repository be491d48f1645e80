// Aggregation of per-document metric values into a task's metrics and standard errors (spec
// tasks.md §1.6; lm_eval/api/metrics.py mean / perplexity / weighted_perplexity / bits_per_byte and
// their stderrs, bootstrap bit-exact with Python's random, tasks/metrics.h). Pure; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "results/eval_results.h"
#include "tasks/task.h"

namespace pythia::tasks {

// Aggregates per-document results into metrics (spec §1.6); also fed golden per-document values
// by tests. `order`: indices of docs in the order the bootstrap sees them (empty =
// document order).
std::vector<results::MetricValue> aggregate(const std::vector<MetricSpec>& specs,
                                            const std::vector<DocResult>& docs,
                                            std::int64_t bootstrap_iters,
                                            const std::vector<std::size_t>& order = {});

}  // namespace pythia::tasks

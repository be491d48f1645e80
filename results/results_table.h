// The summary table `eval` prints: lm-eval's make_table (lm_eval/utils.py, commit 4e7e0d4)
// | Tasks | Version | Filter | n-shot | Metric | ↑/↓ | Value | ± | Stderr |, metrics sorted by
// name, values with 4 decimals, "N/A" for a missing stderr (markdown table). Pure.
#pragma once

#include <string>

#include "results/eval_results.h"

namespace pythia::results {

std::string format_results_table(const EvalRun& run);

}  // namespace pythia::results

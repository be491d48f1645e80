// The `eval` flags (shared with `sweep`): bound as text by Boost.Program_options, then turned into
// a typed, validated eval::EvalPlan BEFORE any model loads.
//
//   EvalFlags f;  add_eval_options(desc, f);  ... parse ...
//   const EvalPlan plan = to_eval_plan(f);   // UsageError (exit 2) for any bad value
#pragma once

#include <boost/program_options/options_description.hpp>
#include <cstdint>
#include <filesystem>
#include <string>

#include "eval/eval_plan.h"

namespace pythia::harness {

struct EvalFlags {
  std::string tasks = "all";              // --tasks: "all" or comma-separated lm-eval names
  std::int64_t limit = -1;                // --limit: first N documents per task (-1 = all)
  std::string data_dir;                   // --data-dir ("" = default_data_dir())
  std::string output = "results";         // --output: results root
  bool log_samples = false;               // --log-samples
  std::string format = "lm-eval";         // --format: lm-eval | pythia-v0
  bool published_names = false;           // --published-names (pythia-v0 only)
  std::int64_t bootstrap_iters = 100000;  // --bootstrap-iters (lm-eval default)
  int num_fewshot = 0;                    // --num-fewshot
};

// Registers --tasks, --limit, --data-dir, --output, --log-samples, --format, --published-names,
// --bootstrap-iters, --num-fewshot.
void add_eval_options(boost::program_options::options_description& desc, EvalFlags& f);

// $PYTHIA_DATA_DIR if set, else "data/tasks" (relative to the working directory).
std::filesystem::path default_data_dir();

// The plan of `f`, validated (EvalPlan::validate).
eval::EvalPlan to_eval_plan(const EvalFlags& f);

}  // namespace pythia::harness

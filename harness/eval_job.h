// The eval job: lm-evaluation-harness tasks on one loaded model, results written like lm-eval.
// Shared by `pythia-harness eval` (cmd_eval.cpp) and `sweep` (one loaded model per revision).
//
//   EvalOptions o;  add_eval_options(desc, o);  ... parse ...
//   results::EvalRun run = run_eval_job(lm, tokenizer, "EleutherAI/pythia-70m", "step143000", o);
//
// Writes (atomically) OUTPUT/<model>/<revision>/results.json — lm-eval v0.4's schema
// (--format lm-eval) or the Pythia v0.3/hf-causal layout (--format pythia-v0) — and with
// --log-samples OUTPUT/<model>/<revision>/samples_<task>.jsonl, one line per request (layout of
// harness/evaluator.h sample_json, the same as the lm-eval goldens' <task>.requests.jsonl), and
// docs_<task>.jsonl, one line per document with its metric values (the goldens' <task>.docs.jsonl).
// Progress + ETA on stderr when it is a terminal; the make_table-style summary is returned by
// format_results_table().
//
// Errors: UsageError for bad options, DataError for missing/bad data files (naming the file).
// Threads: runs in the caller's TBB setting (harness/threading.h ThreadSetup).
#pragma once

#include <boost/program_options/options_description.hpp>
#include <cstdint>
#include <filesystem>
#include <string>

#include "model/causal_lm.h"
#include "model/tokenizer.h"
#include "results/eval_results.h"

namespace pythia::harness {

struct EvalOptions {
  std::string tasks = "all";              // --tasks: "all" or comma-separated lm-eval names
  std::int64_t limit = -1;                // --limit: first N documents per task (-1 = all)
  std::string data_dir;                   // --data-dir ("" = default_data_dir())
  std::string output = "results";         // --output: results root
  bool log_samples = false;               // --log-samples
  std::string format = "lm-eval";         // --format: lm-eval | pythia-v0
  std::int64_t bootstrap_iters = 100000;  // --bootstrap-iters (lm-eval default)
};

// Registers --tasks, --limit, --data-dir, --output, --log-samples, --format, --bootstrap-iters.
void add_eval_options(boost::program_options::options_description& desc, EvalOptions& o);

// $PYTHIA_DATA_DIR if set, else "data/tasks" (relative to the working directory).
std::filesystem::path default_data_dir();

// Loads the tasks of `o`, evaluates them on `lm` in registry order, writes the files, prints a
// progress line per task on stderr and returns the run (also what was written).
// REQUIRES: `lm` and `tokenizer` outlive the call.
results::EvalRun run_eval_job(const model::CausalLm& lm, const model::Tokenizer& tokenizer,
                              const std::string& model_name, const std::string& revision,
                              const EvalOptions& o);

// The output folder of a run: OUTPUT/<model>/<revision or "main">.
std::filesystem::path eval_output_dir(const EvalOptions& o, const std::string& model_name,
                                      const std::string& revision);

// lm-eval's make_table (lm_eval/utils.py): | Tasks | Version | Filter | n-shot | Metric | ↑/↓ |
// Value | ± | Stderr |, values with 4 decimals, "N/A" for a missing stderr (markdown table).
std::string format_results_table(const results::EvalRun& run);

}  // namespace pythia::harness

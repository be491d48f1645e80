// The eval job: lm-evaluation-harness tasks on one loaded model, results written like lm-eval.
// Shared by `pythia-harness eval` and `sweep` (one loaded model per revision).
//
//   const EvalPlan plan = ...;   // eval/eval_plan.h, validated before the model loads
//   results::EvalRun run = run_eval_job(lm, tokenizer, "EleutherAI/pythia-70m", "step143000", plan);
//
// Steps: load every task of the plan (a missing file is reported before any model time is
// spent; a split of another size than the real one is noted on stderr as sample data) ->
// evaluate each (eval/evaluator.h) with a progress line -> write, atomically, into
// <output>/<model>/<revision>/ (results/output_layout.h): results.json in the plan's layout
// (results/eval_results.h) and, with log_samples, samples_<task>.jsonl (one line per request,
// eval/evaluator.h sample_json, the layout of the lm-eval goldens' <task>.requests.jsonl) and
// docs_<task>.jsonl (one line per document with its metric values: the goldens' <task>.docs.jsonl).
//
// Errors: DataError for missing/bad data files (naming the file).
// Threads: runs in the caller's TBB setting (harness/threading.h ThreadSetup).
#pragma once

#include <string>

#include "eval/eval_plan.h"
#include "model/causal_lm.h"
#include "model/tokenizer.h"
#include "results/eval_results.h"

namespace pythia::eval {

// REQUIRES: `lm` and `tokenizer` outlive the call; plan.validate() passes.
// `identity`: the weights' identity (results/model_identity.h), recorded in results.json; null =
// unknown (model_sha "", model_num_parameters 0).
results::EvalRun run_eval_job(const model::CausalLm& lm, const model::Tokenizer& tokenizer,
                              const std::string& model_name, const std::string& revision,
                              const EvalPlan& plan,
                              const results::ModelIdentity* identity = nullptr);

}  // namespace pythia::eval

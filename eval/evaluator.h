// Evaluator: runs lm-eval tasks (tasks/task.h) on a CausalLm the way lm-eval v0.4's HF backend
// does (spec tasks.md §1.4-§1.6; lm_eval/api/model.py TemplateLM._encode_pair / loglikelihood,
// lm_eval/models/huggingface.py HFLM._loglikelihood_tokens / loglikelihood_rolling,
// lm_eval/utils.py get_rolling_token_windows / make_disjoint_window, commit 4e7e0d4):
//   build requests -> encode (v0.4 joint encoding, no BOS) -> left-truncate to max_length+1 ->
//   group requests sharing a context -> sort groups by cost -> score groups in parallel (TBB) ->
//   scatter answers -> per-document metrics -> aggregates and standard errors.
//
// Thread safety: evaluate_task is reentrant; it runs TBB parallel loops in the caller's arena.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "eval/request_encoding.h"
#include "eval/request_scoring.h"
#include "model/causal_lm.h"
#include "results/eval_results.h"
#include "tasks/task.h"

namespace pythia::eval {

struct EvalSettings {
  std::int64_t bootstrap_iters = 100000;  // lm-eval default
  Token prefix_token = 0;                 // Pythia: <|endoftext|> = BOS = EOS = 0
  // Bootstrap the perplexity stderr over the documents in lm-eval v0.3's order (the evaluated
  // documents shuffled by random.Random(42)), as Pythia's published files were made.
  bool v03_bootstrap_order = false;
  // Reuse cached context prefixes across requests (eval/request_scoring.h); the numbers are
  // identical either way, only the positions fed differ. Off only to measure the gain.
  bool share_prefixes = true;
  // Progress: called with (positions just fed, total positions of the task) from any thread.
  std::function<void(std::uint64_t, std::uint64_t)> progress;
};

// One request with everything the samples log shows.
struct RequestRecord {
  tasks::Request request;
  ScoredRequest scored;               // loglikelihood requests
  std::vector<Token> token_ids;       // rolling: encode(text)
  std::vector<ScoredRequest> windows; // rolling: the windows in order
  tasks::RequestAnswer answer;        // the answer the task saw
};

struct TaskEvaluation {
  results::TaskResult result;
  std::vector<RequestRecord> records;  // in lm-eval order (doc, idx)
  std::vector<tasks::DocResult> docs;
  std::uint64_t positions = 0;         // tokens fed to the model
};

// Steps 1-2 of evaluate_task: the requests of every document of a LOADED task, encoded
// (loglikelihood: scored.tokens; rolling: token_ids and windows), answers not yet filled.
std::vector<RequestRecord> prepare_requests(const tasks::Task& task, const EncodeFn& encode,
                                            int max_length, Token prefix_token);

// Runs a LOADED task end to end. Throws DataError on unencodable requests.
TaskEvaluation evaluate_task(const tasks::Task& task, const model::CausalLm& lm,
                             const EncodeFn& encode, const EvalSettings& settings);

// The samples-log line of one request: doc_id, idx, request_type, context, continuation,
// context_ids, continuation_ids, truncated_left, logprob, is_greedy (rolling: text, token_ids,
// n_tokens, windows, logprob) — the layout of lm-eval goldens' <task>.requests.jsonl.
nlohmann::json sample_json(const std::string& task, const RequestRecord& record);

}  // namespace pythia::eval

// Evaluator: runs lm-eval tasks (tasks/task.h) on a CausalLm the way lm-eval v0.4's HF backend
// does (spec tasks.md §1.4-§1.6; lm_eval/api/model.py TemplateLM._encode_pair / loglikelihood,
// lm_eval/models/huggingface.py HFLM._loglikelihood_tokens / loglikelihood_rolling,
// lm_eval/utils.py get_rolling_token_windows / make_disjoint_window, commit 4e7e0d4):
//   build requests -> encode (v0.4 joint encoding, no BOS) -> left-truncate to max_length+1 ->
//   group requests sharing a context -> sort groups by cost -> score groups in parallel (TBB) ->
//   scatter answers -> per-document metrics -> aggregates and standard errors.
//
// Scoring plan of a group (requests of one document with identical context ids; a rolling window
// is its own group), each group in its own KvCache: a group of one request feeds context +
// continuation[:-1] in one forward() call; a larger group forwards context[:-1] once (no logits),
// then for each continuation truncates the cache back to that prefix and forwards [context[-1]] +
// continuation[:-1]. Logits are taken only for the rows that predict continuation tokens. logprob = sum_j (logit[cont_j] - logsumexp(row_j)) over the FULL logit row
// (model/logit_ops.h), summed in token order in double; is_greedy = every cont_j is the row's
// argmax (first index on ties). The plan depends only on the request, so the numbers do not
// depend on the thread count, on the order of groups, or on which requests share a task.
//
// Thread safety: evaluate_task is reentrant; it runs TBB parallel loops in the caller's arena.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/causal_lm.h"
#include "results/eval_results.h"
#include "tasks/task.h"

namespace pythia::harness {

using model::Token;
using EncodeFn = std::function<std::vector<Token>(std::string_view)>;

// What the model scores for one loglikelihood request (or one rolling window).
struct TokenRequest {
  std::vector<Token> context_ids;       // after left truncation
  std::vector<Token> continuation_ids;  // scored tokens
  int truncated_left = 0;               // tokens dropped from the left of context + continuation
};

struct ScoredRequest {
  TokenRequest tokens;
  tasks::RequestAnswer answer;
};

// lm-eval v0.4 `_encode_pair` + the truncation of `_loglikelihood_tokens`: move trailing
// whitespace of the context into the continuation; cont = encode(ctx + cont)[len(encode(ctx)):];
// empty context -> context [prefix_token] (or the first continuation token when it equals the
// prefix); keep the last max_length + 1 tokens. Throws DataError if the continuation encodes to
// no tokens or to more than max_length tokens (lm-eval asserts the same).
TokenRequest encode_request(const EncodeFn& encode, std::string_view context,
                            std::string_view continuation, int max_length, Token prefix_token);

// get_rolling_token_windows(tokens, prefix, max_length, context_len=1) + make_disjoint_window:
// the (context, continuation) pairs of a rolling log-likelihood, in order. Empty for no tokens.
std::vector<TokenRequest> rolling_windows(std::span<const Token> tokens, int max_length,
                                          Token prefix_token);

// Scores `requests` on `lm` (plan above) in parallel over groups of consecutive requests with
// identical context ids and the same `group_key`. `on_done(tokens)` is called (from any thread)
// after each group with the number of positions it fed. Answers in request order.
std::vector<tasks::RequestAnswer> score_requests(const model::CausalLm& lm,
                                                 std::span<const TokenRequest> requests,
                                                 std::span<const std::int64_t> group_key,
                                                 const std::function<void(std::uint64_t)>& on_done);

// Positions score_requests will feed for these requests (progress totals).
std::uint64_t planned_positions(const model::CausalLm& lm, std::span<const TokenRequest> requests,
                                std::span<const std::int64_t> group_key);

struct EvalSettings {
  std::int64_t bootstrap_iters = 100000;  // lm-eval default
  Token prefix_token = 0;                 // Pythia: <|endoftext|> = BOS = EOS = 0
  // Bootstrap the perplexity stderr over the documents in lm-eval v0.3's order (the evaluated
  // documents shuffled by random.Random(42)), as Pythia's published files were made.
  bool v03_bootstrap_order = false;
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

// Aggregates per-document results into metrics (spec §1.6) — exposed for tests that feed golden
// per-document values. `order`: indices of docs in the order the bootstrap sees them (empty =
// document order).
std::vector<results::MetricValue> aggregate(const std::vector<tasks::MetricSpec>& specs,
                                            const std::vector<tasks::DocResult>& docs,
                                            std::int64_t bootstrap_iters,
                                            const std::vector<std::size_t>& order = {});

// The samples-log line of one request: doc_id, idx, request_type, context, continuation,
// context_ids, continuation_ids, truncated_left, logprob, is_greedy (rolling: text, token_ids,
// n_tokens, windows, logprob) — the layout of lm-eval goldens' <task>.requests.jsonl.
nlohmann::json sample_json(const std::string& task, const RequestRecord& record);

}  // namespace pythia::harness

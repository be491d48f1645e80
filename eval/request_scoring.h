// Scoring encoded requests on a CausalLm, deterministically and in parallel (TBB): lm-eval v0.4
// HFLM._loglikelihood_tokens semantics (spec tasks.md §1.5).
//
// Scoring plan of a group (requests of one document with identical context ids; a rolling window
// is its own group): a group of one request feeds context + continuation[:-1] in one forward()
// call; a larger group forwards context[:-1] once (no logits), then for each continuation
// truncates the cache back to that prefix and forwards [context[-1]] + continuation[:-1].
// Logits are taken only for the rows that predict continuation tokens. logprob = sum_j
// (logit[cont_j] - logsumexp(row_j)) over the FULL logit row (model/logit_ops.h), summed in token
// order in double; is_greedy = every cont_j is the row's argmax (first index on ties).
//
// Prefix sharing (ScoringOptions::share_prefixes, on by default; only for a CausalLm whose
// forward_is_split_invariant()): groups are sorted by context ids and cut into chunks (about 8
// per thread); a chunk's groups run one after another in one KvCache, and each group keeps the
// positions its context shares with what the cache holds from the previous group (few-shot
// examples, a description, winogrande's sentence start) instead of feeding them again. Split
// invariance makes the logits bit-identical to feeding every group alone, so the numbers do not
// depend on sharing, the thread count, the order of groups, or which requests share a task;
// tests/eval/prefix_sharing_test.cpp checks that on a GptNeox model. Without split invariance
// every group runs alone in a fresh cache.
//
// Thread safety: reentrant; runs TBB parallel loops in the caller's arena.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "eval/request_encoding.h"
#include "model/causal_lm.h"
#include "tasks/task.h"

namespace pythia::eval {

struct ScoredRequest {
  TokenRequest tokens;
  tasks::RequestAnswer answer;
};

struct ScoringOptions {
  bool share_prefixes = true;  // reuse cached context prefixes across groups (plan above)
};

// Scores `requests` on `lm` (plan above) in parallel; a group is a run of consecutive requests
// with identical context ids and the same `group_key`. `on_done(tokens)` is called (from any
// thread) after each group with the number of positions it fed. Answers in request order.
std::vector<tasks::RequestAnswer> score_requests(const model::CausalLm& lm,
                                                 std::span<const TokenRequest> requests,
                                                 std::span<const std::int64_t> group_key,
                                                 const std::function<void(std::uint64_t)>& on_done,
                                                 const ScoringOptions& options = {});

// Positions score_requests will feed for these requests (progress totals; prefix reuse counted).
// Call it in the same task arena as score_requests (the chunking follows the thread count).
std::uint64_t planned_positions(const model::CausalLm& lm, std::span<const TokenRequest> requests,
                                std::span<const std::int64_t> group_key,
                                const ScoringOptions& options = {});

}  // namespace pythia::eval

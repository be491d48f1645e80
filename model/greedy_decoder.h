// Batched greedy decoding over CausalLm: THE decoding loop of the project, used by `generate`,
// the memorization scanner (decoding after a row's first mismatch) and bench_memorize.
//
//   greedy_decode(lm, caches, first_tokens, excluded_id, [&](std::size_t b, const GreedyChoice& c) {
//     out[b].push_back(c.token);
//     return out[b].size() < max_new;   // false: sequence b stops
//   });
//
// Each round feeds every still-active sequence its pending token in ONE CausalLm::decode() call
// (one weight pass for the batch), then asks on_step for each, in batch order, with the greedy
// choice over its logit row; a sequence continues with the chosen token fed next. The choice
// (model/logit_ops.h top2): the first maximum over all logits except `excluded_id` (-1 = none;
// EOS under eval_memorization.py's min_length policy); margin = top1 - top2 (0 on an exact tie,
// +inf when there is no second); nan when a logit was NaN or nothing is left (token -1).
// Determinism: CausalLm::decode's result for a sequence does not depend on the batch, so a
// sequence's choices do not depend on which other sequences decode with it.
// REQUIRES: caches[b] can take as many more positions as sequence b will be fed.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <span>

#include "model/causal_lm.h"

namespace pythia::model {

struct GreedyChoice {
  Token token = -1;
  float margin = std::numeric_limits<float>::infinity();
  bool nan = false;
};

// The greedy choice over one logit row (see above).
GreedyChoice greedy_choice(std::span<const float> logits, int excluded_id);

// Called after each step of sequence b; returns whether b goes on (its choice is fed next).
using GreedyStepFn = std::function<bool(std::size_t b, const GreedyChoice& choice)>;

// Decodes until on_step has stopped every sequence. first_tokens[b] is fed to caches[b] first.
void greedy_decode(const CausalLm& lm, std::span<KvCache* const> caches,
                   std::span<const Token> first_tokens, int excluded_id, const GreedyStepFn& on_step);

}  // namespace pythia::model

// Request encoding of lm-eval v0.4's HF backend (spec tasks.md §1.4; lm_eval/api/model.py
// TemplateLM._encode_pair, lm_eval/models/huggingface.py HFLM._loglikelihood_tokens truncation and
// loglikelihood_rolling, lm_eval/utils.py get_rolling_token_windows / make_disjoint_window, commit
// 4e7e0d4): what token ids the model is asked to score for a (context, continuation) request or a
// rolling log-likelihood. Pure functions of the tokenizer; thread-safe.
#pragma once

#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "model/kv_cache.h"

namespace pythia::eval {

using model::Token;
using EncodeFn = std::function<std::vector<Token>(std::string_view)>;

// What the model scores for one loglikelihood request (or one rolling window).
struct TokenRequest {
  std::vector<Token> context_ids;       // after left truncation
  std::vector<Token> continuation_ids;  // scored tokens
  int truncated_left = 0;               // tokens dropped from the left of context + continuation
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

}  // namespace pythia::eval

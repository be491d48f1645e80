#include "eval/request_encoding.h"

#include <algorithm>

#include "data/error.h"
#include "tasks/python_text.h"

namespace pythia::eval {

TokenRequest encode_request(const EncodeFn& encode, std::string_view context,
                            std::string_view continuation, int max_length, Token prefix_token) {
  TokenRequest r;
  if (context.empty()) {
    // TemplateLM.loglikelihood: context "" -> [prefix_token_id]; if the continuation starts with
    // the prefix token, that token becomes the context.
    r.continuation_ids = encode(continuation);
    if (!r.continuation_ids.empty() && r.continuation_ids.front() == prefix_token) {
      r.context_ids = {r.continuation_ids.front()};
      r.continuation_ids.erase(r.continuation_ids.begin());
    } else {
      r.context_ids = {prefix_token};
    }
  } else {
    // _encode_pair: move trailing whitespace into the continuation, encode jointly.
    const std::size_t n_space = tasks::trailing_space_bytes(context);
    std::string ctx(context.substr(0, context.size() - n_space));
    std::string cont(context.substr(context.size() - n_space));
    cont.append(continuation);
    std::vector<Token> whole = encode(ctx + cont);
    r.context_ids = encode(ctx);
    const std::size_t n_ctx = std::min(r.context_ids.size(), whole.size());
    r.continuation_ids.assign(whole.begin() + static_cast<std::ptrdiff_t>(n_ctx), whole.end());
  }
  if (r.continuation_ids.empty()) {
    throw DataError("request", "continuation encodes to no tokens (context '" +
                                   std::string(context.substr(0, 80)) + "...')");
  }
  if (static_cast<int>(r.continuation_ids.size()) > max_length) {
    throw DataError("request", "continuation of " + std::to_string(r.continuation_ids.size()) +
                                   " tokens exceeds max_length " + std::to_string(max_length));
  }
  // inp = (ctx + cont)[-(max_length + 1):][:-1]: drop tokens from the left of the context.
  const std::size_t total = r.context_ids.size() + r.continuation_ids.size();
  const std::size_t keep = static_cast<std::size_t>(max_length) + 1;
  if (total > keep) {
    r.truncated_left = static_cast<int>(total - keep);
    r.context_ids.erase(r.context_ids.begin(), r.context_ids.begin() + r.truncated_left);
  }
  return r;
}

std::vector<TokenRequest> rolling_windows(std::span<const Token> tokens, int max_length,
                                          Token prefix_token) {
  std::vector<TokenRequest> out;
  const std::size_t n = tokens.size();
  const std::size_t L = static_cast<std::size_t>(max_length);
  if (n == 0) return out;
  const std::size_t first = std::min(L, n);
  TokenRequest w;
  w.context_ids = {prefix_token};
  w.continuation_ids.assign(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(first));
  out.push_back(std::move(w));
  std::size_t predicted = first;
  while (predicted < n) {
    const std::size_t pred = std::min(n - predicted, L);
    const std::size_t end = predicted + pred;
    // input = tokens[end-L-1 : end-1]; disjoint: context = input[: L - (pred - 1)].
    const std::size_t in_start = end - L - 1;
    const std::size_t ctx_len = L - (pred - 1);
    TokenRequest x;
    x.context_ids.assign(tokens.begin() + static_cast<std::ptrdiff_t>(in_start),
                         tokens.begin() + static_cast<std::ptrdiff_t>(in_start + ctx_len));
    x.continuation_ids.assign(tokens.begin() + static_cast<std::ptrdiff_t>(end - pred),
                              tokens.begin() + static_cast<std::ptrdiff_t>(end));
    out.push_back(std::move(x));
    predicted += pred;
  }
  return out;
}

}  // namespace pythia::eval

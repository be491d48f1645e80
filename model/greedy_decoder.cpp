#include "model/greedy_decoder.h"

#include <stdexcept>
#include <vector>

#include "model/logit_ops.h"

namespace pythia::model {

GreedyChoice greedy_choice(std::span<const float> logits, int excluded_id) {
  const Top2 t = top2(logits, excluded_id);
  GreedyChoice c;
  c.token = static_cast<Token>(t.best_id);
  c.nan = t.any_nan || t.best_id < 0;
  if (t.second_id >= 0) {
    // Exact tie (also +inf == +inf) -> 0; inf - finite -> inf.
    c.margin = (t.best == t.second) ? 0.0f : t.best - t.second;
  }
  return c;
}

void greedy_decode(const CausalLm& lm, std::span<KvCache* const> caches,
                   std::span<const Token> first_tokens, int excluded_id, const GreedyStepFn& on_step) {
  if (caches.size() != first_tokens.size()) throw std::invalid_argument("greedy_decode: sizes differ");
  std::vector<std::size_t> active(caches.size());
  std::vector<Token> pending(first_tokens.begin(), first_tokens.end());
  for (std::size_t b = 0; b < active.size(); ++b) active[b] = b;
  std::vector<Token> feed;
  std::vector<KvCache*> ptrs;
  std::vector<GreedyChoice> got;
  while (!active.empty()) {
    feed.clear();
    ptrs.clear();
    for (const std::size_t b : active) {
      feed.push_back(pending[b]);
      ptrs.push_back(caches[b]);
    }
    got.assign(active.size(), GreedyChoice{});
    lm.decode(feed, ptrs, [&](int j, std::span<const float> logits) {
      got[static_cast<std::size_t>(j)] = greedy_choice(logits, excluded_id);
    });
    std::vector<std::size_t> still;
    for (std::size_t j = 0; j < active.size(); ++j) {
      const std::size_t b = active[j];
      if (on_step(b, got[j])) {
        pending[b] = got[j].token;
        still.push_back(b);
      }
    }
    active.swap(still);
  }
}

}  // namespace pythia::model

// model/greedy_decoder.h: batched greedy decoding gives each sequence the tokens it gets when
// decoded alone (batch independence), honours the excluded id and the per-sequence stop, and
// greedy_choice reports first-maximum ties, margins and NaN.
#include "model/greedy_decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "model/gpt_neox.h"
#include "model/logit_ops.h"

namespace pythia::model {
namespace {

std::unique_ptr<GptNeox> small_model() {
  NeoxConfig c;  // head_dim 20, 2 layers, 1000 ids
  c.hidden_size = 120;
  c.num_attention_heads = 6;
  c.intermediate_size = 480;
  c.num_hidden_layers = 2;
  c.vocab_size = 1000;
  c.rotary_pct = 1.0;
  return GptNeox::random(c, 7);
}

// Greedy continuation of one prompt by hand: forward over the prompt, then decode one by one.
std::vector<Token> alone(const GptNeox& m, const std::vector<Token>& prompt, int n, int excluded) {
  KvCache cache = m.make_cache(static_cast<int>(prompt.size()) + n);
  m.forward(std::span<const Token>(prompt).first(prompt.size() - 1), cache, {}, [](int, std::span<const float>) {});
  std::vector<Token> out;
  Token next = prompt.back();
  for (int i = 0; i < n; ++i) {
    KvCache* p = &cache;
    m.decode(std::span<const Token>(&next, 1), std::span<KvCache* const>(&p, 1),
             [&](int, std::span<const float> l) { next = static_cast<Token>(argmax(l, excluded)); });
    out.push_back(next);
  }
  return out;
}

TEST(GreedyDecoder, BatchedEqualsAloneAndStopsPerSequence) {
  const auto m = small_model();
  const std::vector<std::vector<Token>> prompts = {{5, 17, 300}, {9}, {1, 2, 3, 4, 5, 6, 7}, {999, 0}};
  const std::vector<int> lengths = {6, 3, 1, 5};
  for (const int excluded : {-1, 0}) {
    std::vector<KvCache> caches;
    std::vector<Token> first;
    for (const auto& p : prompts) {
      caches.push_back(m->make_cache(static_cast<int>(p.size()) + 8));
      m->forward(std::span<const Token>(p).first(p.size() - 1), caches.back(), {}, [](int, std::span<const float>) {});
      first.push_back(p.back());
    }
    std::vector<KvCache*> ptrs;
    for (auto& c : caches) ptrs.push_back(&c);
    std::vector<std::vector<Token>> got(prompts.size());
    greedy_decode(*m, ptrs, first, excluded, [&](std::size_t b, const GreedyChoice& c) {
      EXPECT_FALSE(c.nan);
      EXPECT_NE(c.token, excluded);
      got[b].push_back(c.token);
      return static_cast<int>(got[b].size()) < lengths[b];
    });
    for (std::size_t b = 0; b < prompts.size(); ++b) {
      EXPECT_EQ(got[b], alone(*m, prompts[b], lengths[b], excluded)) << "sequence " << b << " excluded " << excluded;
      // The prompt and every chosen token but the last (a stopped sequence is not fed again).
      EXPECT_EQ(caches[b].length(), static_cast<int>(prompts[b].size()) + lengths[b] - 1);
    }
  }
}

TEST(GreedyDecoder, ChoiceTiesMarginsAndNan) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> l = {1.0f, 3.0f, 3.0f, 2.0f};
  GreedyChoice c = greedy_choice(l, -1);
  EXPECT_EQ(c.token, 1);  // first index of the maximum
  EXPECT_EQ(c.margin, 0.0f);
  c = greedy_choice(l, 1);
  EXPECT_EQ(c.token, 2);
  EXPECT_EQ(c.margin, 1.0f);
  l = {inf, 0.5f};
  EXPECT_EQ(greedy_choice(l, -1).margin, inf);
  l = {0.5f, std::nanf(""), 0.25f};
  c = greedy_choice(l, -1);
  EXPECT_TRUE(c.nan);
  l = {0.5f};
  c = greedy_choice(l, 0);
  EXPECT_TRUE(c.nan);
  EXPECT_EQ(c.token, -1);
}

}  // namespace
}  // namespace pythia::model

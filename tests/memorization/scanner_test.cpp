// MemorizationScanner on a stub CausalLm whose logits are scripted from the context (spec
// memorization.md §6 "Scoring logic"), and the score formatting table of spec §3.4.
#include "memorization/scanner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <mutex>
#include <vector>

using pythia::memorization::EodPolicy;
using pythia::results::format_score;
using pythia::memorization::MemorizationScanner;
using pythia::results::RowScore;
using pythia::memorization::ScanConfig;
using pythia::model::KvCache;
using pythia::model::LogitSink;
using pythia::model::Token;

namespace {

constexpr int kVocab = 256;
constexpr int kW = 64;

// Logits after the last token of `context` (which predict position context.size()).
using Script = std::function<std::vector<float>(std::span<const Token> context)>;

class ScriptedLm : public pythia::model::CausalLm {
 public:
  explicit ScriptedLm(Script s) : script_(std::move(s)) {}
  int vocab_size() const override { return kVocab; }
  int max_positions() const override { return 2048; }
  KvCache make_cache(int capacity) const override { return KvCache(0, 0, 0, capacity); }
  void forward(std::span<const Token> tokens, KvCache& cache, std::span<const int> logit_rows,
               const LogitSink& sink) const override {
    ++forward_calls;
    const int base = cache.length();
    cache.append(tokens);
    for (std::size_t k = 0; k < logit_rows.size(); ++k) {
      const auto ctx = cache.tokens().first(static_cast<std::size_t>(base + logit_rows[k] + 1));
      const auto l = script_(ctx);
      sink(logit_rows[k], l);  // the index is the token index (causal_lm.h)
    }
  }
  void decode(std::span<const Token> tokens, std::span<KvCache* const> caches,
              const LogitSink& sink) const override {
    ++decode_calls;
    for (std::size_t b = 0; b < tokens.size(); ++b) {
      caches[b]->append(tokens.subspan(b, 1));
      {
        std::lock_guard<std::mutex> lock(mu_);
        fed.push_back({caches[b]->length() - 1, tokens[b]});
      }
      const auto l = script_(caches[b]->tokens());
      sink(static_cast<int>(b), l);
    }
  }
  mutable std::atomic<int> forward_calls{0}, decode_calls{0};
  mutable std::vector<std::pair<int, Token>> fed;  // (position, token) of every decode input

 private:
  Script script_;
  mutable std::mutex mu_;
};

std::vector<float> onehot(Token id, float v = 1.0f) {
  std::vector<float> l(kVocab, 0.0f);
  l[static_cast<std::size_t>(id)] = v;
  return l;
}

// A row whose tokens are 100 + t (no 0, no 3, 5, 7, 98, 99); x[0] = tag identifies the scenario.
std::vector<Token> make_row(Token tag) {
  std::vector<Token> x(kW);
  for (int t = 0; t < kW; ++t) x[t] = 100 + t;
  x[0] = tag;
  return x;
}

bool on_true_path(std::span<const Token> ctx, const std::vector<Token>& x) {
  return std::equal(ctx.begin(), ctx.end(), x.begin());
}

RowScore score_one(const ScriptedLm& lm, const std::vector<Token>& x, ScanConfig cfg = {}) {
  MemorizationScanner scanner(lm, cfg);
  std::vector<std::uint64_t> idx = {7};
  std::vector<RowScore> out(1);
  scanner.score(x, idx, out);
  EXPECT_EQ(out[0].index, 7u);
  return out[0];
}

TEST(MemorizationScanner, AllMatchIsMemorized) {
  const auto x = make_row(10);
  ScriptedLm lm([&](std::span<const Token> ctx) { return onehot(x[ctx.size()]); });
  const RowScore r = score_one(lm, x);
  EXPECT_TRUE(r.memorized);
  EXPECT_TRUE(r.score_known);
  EXPECT_FALSE(r.nan);
  EXPECT_EQ(r.matches, 32);
  EXPECT_EQ(r.first_mismatch, 64);
  EXPECT_FLOAT_EQ(r.min_margin, 1.0f);
  EXPECT_EQ(format_score(r.matches, 32), "1.0");
  EXPECT_EQ(lm.forward_calls, 1);
  EXPECT_EQ(lm.decode_calls, 0);
}

TEST(MemorizationScanner, EodTargetIsAMissAndDecodingContinuesFromRunnerUp) {
  auto x = make_row(11);
  x[40] = 0;  // EOD in the true continuation, and the stub's top logit there
  auto script = [&](std::span<const Token> ctx) {
    if (ctx.size() == 40) {
      auto l = onehot(0, 10.0f);
      l[5] = 8.0f;  // runner-up
      return l;
    }
    return onehot(x[ctx.size()]);  // from then on the true token, whatever the context
  };
  ScriptedLm lm(script);
  const RowScore r = score_one(lm, x);
  EXPECT_FALSE(r.memorized);
  EXPECT_TRUE(r.eod_in_target);
  EXPECT_EQ(r.first_mismatch, 40);
  EXPECT_EQ(r.matches, 31);
  EXPECT_EQ(format_score(r.matches, 32), "0.96875");
  // The greedy token fed at position 40 is the runner-up 5 (id 0 masked), then 23 more steps.
  ASSERT_FALSE(lm.fed.empty());
  EXPECT_EQ(lm.fed.front(), (std::pair<int, Token>{40, 5}));
  EXPECT_EQ(lm.fed.size(), 63u - 40u);
  EXPECT_FLOAT_EQ(r.min_margin, 1.0f);  // 8 - 0 at t=40 (id 0 not eligible); 1 elsewhere

  // Non-reference policy: EOD may be predicted, the row is memorized.
  ScriptedLm lm2(script);
  ScanConfig allow;
  allow.eod_policy = EodPolicy::kAllow;
  const RowScore r2 = score_one(lm2, x, allow);
  EXPECT_TRUE(r2.memorized);
  EXPECT_EQ(r2.matches, 32);
  EXPECT_FLOAT_EQ(r2.min_margin, 1.0f);
}

TEST(MemorizationScanner, TieGoesToLowestId) {
  auto x = make_row(12);
  auto tie_at_45 = [&](std::span<const Token> ctx) {
    if (ctx.size() == 45) {
      auto l = onehot(7, 2.0f);
      l[3] = 2.0f;
      return l;
    }
    return onehot(x[ctx.size()]);
  };
  x[45] = 3;
  ScriptedLm lm(tie_at_45);
  RowScore r = score_one(lm, x);
  EXPECT_TRUE(r.memorized);
  EXPECT_EQ(r.min_margin, 0.0f);

  x[45] = 7;  // the tie resolves to 3, so 7 is a miss
  ScriptedLm lm2(tie_at_45);
  r = score_one(lm2, x);
  EXPECT_FALSE(r.memorized);
  EXPECT_EQ(r.first_mismatch, 45);
  EXPECT_EQ(r.matches, 31);
  EXPECT_EQ(lm2.fed.front(), (std::pair<int, Token>{45, 3}));
}

// Mismatch at m = 35 (the model says 99), wrong (98) until t = 49, right again from t = 50.
Script resync_script(const std::vector<Token>& x) {
  return [&x](std::span<const Token> ctx) {
    const std::size_t t = ctx.size();
    if (on_true_path(ctx, x)) return onehot(t == 35 ? 99 : x[t]);
    return onehot(t < 50 ? 98 : x[t]);
  };
}

TEST(MemorizationScanner, MismatchAt35ResyncFrom50) {
  const auto x = make_row(13);
  ScriptedLm lm(resync_script(x));
  const RowScore r = score_one(lm, x);
  EXPECT_EQ(r.first_mismatch, 35);
  EXPECT_EQ(r.matches, 3 + 14);
  EXPECT_TRUE(r.score_known);
  EXPECT_EQ(format_score(r.matches, 32), "0.53125");
  EXPECT_EQ(lm.forward_calls, 1);
  EXPECT_EQ(lm.decode_calls, 63 - 35);
  EXPECT_EQ(lm.fed.front(), (std::pair<int, Token>{35, 99}));  // cache truncated to 35, g[35] fed

  // Memorized-only mode: no decoding, score unknown, not memorized.
  ScriptedLm lm2(resync_script(x));
  ScanConfig fast;
  fast.exact_score = false;
  const RowScore r2 = score_one(lm2, x, fast);
  EXPECT_FALSE(r2.memorized);
  EXPECT_FALSE(r2.score_known);
  EXPECT_EQ(r2.first_mismatch, 35);
  EXPECT_EQ(lm2.decode_calls, 0);
}

TEST(MemorizationScanner, MismatchAt63NeedsNoDecodeStep) {
  const auto x = make_row(14);
  ScriptedLm lm([&](std::span<const Token> ctx) {
    return onehot(ctx.size() == 63 ? 99 : x[ctx.size()]);
  });
  const RowScore r = score_one(lm, x);
  EXPECT_EQ(r.first_mismatch, 63);
  EXPECT_EQ(r.matches, 31);
  EXPECT_EQ(format_score(r.matches, 32), "0.96875");
  EXPECT_EQ(lm.decode_calls, 0);
}

TEST(MemorizationScanner, NanAtScoredStepFlagsRow) {
  const auto x = make_row(15);
  ScriptedLm lm([&](std::span<const Token> ctx) {
    auto l = onehot(x[ctx.size()]);
    if (ctx.size() == 36) l[200] = std::numeric_limits<float>::quiet_NaN();
    return l;
  });
  const RowScore r = score_one(lm, x);
  EXPECT_TRUE(r.nan);
  EXPECT_FALSE(r.memorized);
  EXPECT_FALSE(r.score_known);

  // NaN during decoding flags the row too.
  ScriptedLm lm2([&](std::span<const Token> ctx) {
    const std::size_t t = ctx.size();
    if (on_true_path(ctx, x)) return onehot(t == 33 ? 99 : x[t]);
    auto l = onehot(x[t]);
    if (t == 60) l[1] = std::numeric_limits<float>::quiet_NaN();
    return l;
  });
  const RowScore r2 = score_one(lm2, x);
  EXPECT_TRUE(r2.nan);
  EXPECT_FALSE(r2.score_known);

  // A NaN only at a teacher-forced position after the first mismatch is not a scored step.
  ScriptedLm lm3([&](std::span<const Token> ctx) {
    const std::size_t t = ctx.size();
    if (on_true_path(ctx, x)) {
      auto l = onehot(t == 33 ? 99 : x[t]);
      if (t == 50) l[1] = std::numeric_limits<float>::quiet_NaN();
      return l;
    }
    return onehot(x[t]);
  });
  const RowScore r3 = score_one(lm3, x);
  EXPECT_FALSE(r3.nan);
  EXPECT_EQ(r3.matches, 31);
}

TEST(MemorizationScanner, ResultsIndependentOfBatchCompositionAndThreads) {
  // One script serving several scenarios, selected by x[0].
  std::vector<std::vector<Token>> rows;
  for (Token tag = 20; tag < 30; ++tag) rows.push_back(make_row(tag));
  ScriptedLm lm([&](std::span<const Token> ctx) {
    const auto& x = rows[static_cast<std::size_t>(ctx[0] - 20)];
    const std::size_t t = ctx.size();
    const std::size_t m = 32 + static_cast<std::size_t>(ctx[0] - 20) * 3;  // 32, 35, ..., 59
    if (on_true_path(ctx, x)) return onehot(t == m ? 99 : x[t]);
    return onehot((t + ctx[0]) % 3 == 0 ? x[t] : 98);
  });
  MemorizationScanner scanner(lm, {});
  auto run = [&](const std::vector<std::size_t>& order, bool parallel) {
    std::vector<Token> flat;
    std::vector<std::uint64_t> idx;
    for (std::size_t i : order) {
      flat.insert(flat.end(), rows[i].begin(), rows[i].end());
      idx.push_back(i);
    }
    std::vector<RowScore> out(order.size());
    scanner.score(flat, idx, out, parallel);
    std::vector<RowScore> by_row(rows.size());
    for (const auto& r : out) by_row[r.index] = r;
    return by_row;
  };
  const auto all = run({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, true);
  const auto rev = run({9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, false);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto single = run({i}, false);
    for (const auto* other : {&rev, &single}) {
      const RowScore& a = all[i];
      const RowScore& b = (*other)[i];
      if (other == &single && b.index != i) continue;
      EXPECT_EQ(a.matches, b.matches) << "row " << i;
      EXPECT_EQ(a.first_mismatch, b.first_mismatch) << "row " << i;
      EXPECT_EQ(a.min_margin, b.min_margin) << "row " << i;
    }
    EXPECT_EQ(all[i].first_mismatch, static_cast<int>(32 + i * 3));
  }
}

TEST(ScoreFormat, MatchesPythonFloatReprTable) {
  // spec memorization.md §3.4: str() of the float32 score k/32.
  const char* table[33] = {"0.0",     "0.03125", "0.0625",  "0.09375", "0.125",   "0.15625", "0.1875",
                           "0.21875", "0.25",    "0.28125", "0.3125",  "0.34375", "0.375",   "0.40625",
                           "0.4375",  "0.46875", "0.5",     "0.53125", "0.5625",  "0.59375", "0.625",
                           "0.65625", "0.6875",  "0.71875", "0.75",    "0.78125", "0.8125",  "0.84375",
                           "0.875",   "0.90625", "0.9375",  "0.96875", "1.0"};
  for (int k = 0; k <= 32; ++k) EXPECT_EQ(format_score(k, 32), table[k]) << "k=" << k;
  // Another length: Python str(torch.tensor(1/50, dtype=torch.float32).item()).
  EXPECT_EQ(format_score(1, 50), "0.019999999552965164");
}

}  // namespace

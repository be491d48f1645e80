// Call-splitting invariance of GptNeox (causal_lm.h determinism contract), bit for bit: the logits
// of a sequence fed as ONE forward() call equal those of the same tokens fed in any chunking
// (single tokens, the memorization scanner's stage plans, irregular splits, across the kRowChunk /
// kAttnChunk boundaries), with 1 and 2 threads, and after truncating the cache and re-feeding.
// The memorization scanner's staged teacher forcing (memorization/scanner.h) relies on it.
// decode() is a different computation (attention_one: another fixed order, gpt_neox.h); the last
// test measures how far it is from forward() and prints it (it is NOT bitwise equal today).
//
// Random weights with real shapes (pythia-70m / pythia-160m widths, fewer layers) plus a small
// odd shape (head_dim 20, sequential residual, full rotary).
#include <tbb/global_control.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "model/gpt_neox.h"

namespace pythia::model {
namespace {

struct Shape {
  std::string name;
  NeoxConfig config;
};

std::vector<Shape> shapes() {
  std::vector<Shape> s;
  NeoxConfig c70;  // pythia-70m widths (C 512, H 8, D 64, I 2048, V 50304), 2 layers
  c70.num_hidden_layers = 2;
  s.push_back({"70m_width", c70});
  NeoxConfig c160 = c70;  // pythia-160m widths, 2 layers
  c160.hidden_size = 768;
  c160.num_attention_heads = 12;
  c160.intermediate_size = 3072;
  s.push_back({"160m_width", c160});
  NeoxConfig odd;  // head_dim 20 (not a multiple of 16), sequential residual, full rotary
  odd.hidden_size = 120;
  odd.num_attention_heads = 6;
  odd.intermediate_size = 480;
  odd.num_hidden_layers = 3;
  odd.vocab_size = 1000;
  odd.rotary_pct = 1.0;
  odd.use_parallel_residual = false;
  s.push_back({"odd", odd});
  return s;
}

const GptNeox& model_of(const Shape& s) {
  static std::vector<std::unique_ptr<GptNeox>> models(3);
  const std::size_t i = s.name == "70m_width" ? 0 : s.name == "160m_width" ? 1 : 2;
  if (!models[i]) models[i] = GptNeox::random(s.config, 1234 + i);
  return *models[i];
}

std::vector<Token> tokens(int T, int vocab, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(0, vocab - 1);
  std::vector<Token> x(static_cast<std::size_t>(T));
  for (auto& t : x) t = d(rng);
  return x;
}

using Logits = std::vector<std::vector<float>>;  // [position][vocab]

// Feeds x in calls of the given sizes (summing to x.size()) on one cache, logits at every position.
Logits run_split(const GptNeox& m, const std::vector<Token>& x, const std::vector<int>& sizes,
                 int threads) {
  tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
  Logits out(x.size());
  KvCache cache = m.make_cache(static_cast<int>(x.size()));
  int begin = 0;
  for (const int n : sizes) {
    std::vector<int> rows(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = i;
    m.forward(std::span<const Token>(x).subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(n)),
              cache, rows, [&](int r, std::span<const float> lg) {
                out[static_cast<std::size_t>(begin + r)].assign(lg.begin(), lg.end());
              });
    begin += n;
  }
  EXPECT_EQ(begin, static_cast<int>(x.size()));
  return out;
}

// Rows whose bits differ, and the largest absolute difference.
struct Diff {
  int rows_differing = 0;
  double max_abs = 0.0;
};
Diff compare(const Logits& a, const Logits& b) {
  Diff d;
  for (std::size_t p = 0; p < a.size(); ++p) {
    if (a[p].size() != b[p].size() ||
        std::memcmp(a[p].data(), b[p].data(), a[p].size() * sizeof(float)) != 0) {
      ++d.rows_differing;
      for (std::size_t v = 0; v < a[p].size() && v < b[p].size(); ++v)
        d.max_abs = std::max(d.max_abs, std::fabs(static_cast<double>(a[p][v]) - b[p][v]));
    }
  }
  return d;
}

std::vector<int> plan(std::initializer_list<int> head, int T) {
  std::vector<int> p;
  int s = 0;
  for (const int n : head) {
    if (s + n >= T) break;
    p.push_back(n);
    s += n;
  }
  p.push_back(T - s);
  return p;
}

std::string describe(const std::vector<int>& sizes) {
  std::string s;
  for (std::size_t i = 0; i < sizes.size() && i < 12; ++i) {
    if (i > 0) s += '+';
    s += std::to_string(sizes[i]);
  }
  if (sizes.size() > 12) {
    s += "+... (";
    s += std::to_string(sizes.size());
    s += " calls)";
  }
  return s;
}

class SplitInvariance : public ::testing::TestWithParam<int> {};

TEST_P(SplitInvariance, ForwardLogitsDoNotDependOnHowTheSequenceIsSplit) {
  const Shape shape = shapes()[static_cast<std::size_t>(GetParam())];
  const GptNeox& m = model_of(shape);
  for (const int T : {63, 150}) {
    const auto x = tokens(T, shape.config.vocab_size, 7u + static_cast<unsigned>(T));
    const Logits one = run_split(m, x, {T}, 1);
    std::vector<std::vector<int>> plans = {
        std::vector<int>(static_cast<std::size_t>(T), 1),  // token by token
        plan({32, 4, 8}, T),                               // scanner stage plans
        plan({33, 4, 8}, T),
        plan({32, 1, 1, 1, 2, 5}, T),
        plan({1}, T),
        plan({64, 64}, T),                                 // chunk-size boundaries
        plan({65, 63}, T),
        plan({127, 2}, T),
        plan({17, 5, 41, 3, 29, 11}, T),
    };
    std::mt19937 rng(99);
    for (int k = 0; k < 3; ++k) {  // random splits
      std::vector<int> p;
      int s = 0;
      while (s < T) {
        const int n = std::min(T - s, 1 + static_cast<int>(rng() % 40));
        p.push_back(n);
        s += n;
      }
      plans.push_back(p);
    }
    for (const auto& p : plans) {
      for (const int threads : {1, 2}) {
        const Diff d = compare(one, run_split(m, x, p, threads));
        EXPECT_EQ(d.rows_differing, 0) << shape.name << " T=" << T << " split " << describe(p)
                                       << " threads " << threads << ": max abs diff " << d.max_abs;
      }
    }
    // The single call itself with 2 threads.
    EXPECT_EQ(compare(one, run_split(m, x, {T}, 2)).rows_differing, 0) << shape.name << " T=" << T;
    std::printf("[%s] T=%d: %zu split plans x {1,2} threads compared bit for bit with one call\n",
                shape.name.c_str(), T, plans.size());
  }
}

TEST_P(SplitInvariance, TruncateAndRefeedGivesTheSameLogits) {
  // The scanner feeds a stage past the first mismatch m, truncates the cache to m and continues
  // from there: the entries kept and everything computed after must be unaffected.
  const Shape shape = shapes()[static_cast<std::size_t>(GetParam())];
  const GptNeox& m = model_of(shape);
  const int T = 63;
  const auto x = tokens(T, shape.config.vocab_size, 21u);
  const Logits one = run_split(m, x, {T}, 1);
  for (const int cut : {32, 35, 40, 62}) {
    KvCache cache = m.make_cache(T);
    const std::vector<int> none;
    m.forward(std::span<const Token>(x).first(45 > cut ? 45 : T), cache, none, [](int, std::span<const float>) {});
    cache.truncate(cut);
    Logits got(static_cast<std::size_t>(T));
    std::vector<int> rows;
    for (int i = 0; i < T - cut; ++i) rows.push_back(i);
    m.forward(std::span<const Token>(x).subspan(static_cast<std::size_t>(cut)), cache, rows,
              [&](int r, std::span<const float> lg) {
                got[static_cast<std::size_t>(cut + r)].assign(lg.begin(), lg.end());
              });
    int differ = 0;
    for (int p = cut; p < T; ++p)
      differ += got[static_cast<std::size_t>(p)] != one[static_cast<std::size_t>(p)];
    EXPECT_EQ(differ, 0) << shape.name << " cut " << cut;
  }
}

TEST_P(SplitInvariance, DecodeIsCloseToForwardButNotBitwise) {
  // Informational for the scanner: why teacher-forced positions go through forward(), never
  // through decode() (a row's `memorized` must equal what one forward() pass says).
  const Shape shape = shapes()[static_cast<std::size_t>(GetParam())];
  const GptNeox& m = model_of(shape);
  const int T = 63, P = 32;
  const auto x = tokens(T, shape.config.vocab_size, 5u);
  const Logits one = run_split(m, x, {T}, 1);
  KvCache cache = m.make_cache(T);
  Logits dec(static_cast<std::size_t>(T));
  m.forward(std::span<const Token>(x).first(P), cache, std::vector<int>{P - 1},
            [&](int r, std::span<const float> lg) { dec[static_cast<std::size_t>(r)].assign(lg.begin(), lg.end()); });
  for (int p = P; p < T; ++p) {
    KvCache* c = &cache;
    m.decode(std::span<const Token>(x).subspan(static_cast<std::size_t>(p), 1), std::span<KvCache* const>(&c, 1),
             [&](int, std::span<const float> lg) { dec[static_cast<std::size_t>(p)].assign(lg.begin(), lg.end()); });
  }
  Logits a(one.begin() + P - 1, one.end()), b(dec.begin() + P - 1, dec.end());
  const Diff d = compare(a, b);
  std::printf("[%s] decode() vs forward() at positions %d..%d: %d of %d logit rows differ in bits, "
              "max abs diff %.3g\n",
              shape.name.c_str(), P - 1, T - 1, d.rows_differing, T - P + 1, d.max_abs);
  EXPECT_EQ(compare(Logits(a.begin(), a.begin() + 1), Logits(b.begin(), b.begin() + 1)).rows_differing, 0)
      << "the prompt's last row comes from forward() in both";
  EXPECT_LT(d.max_abs, 1e-3) << "decode() should agree with forward() to rounding";
}

INSTANTIATE_TEST_SUITE_P(Shapes, SplitInvariance, ::testing::Values(0, 1, 2),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return shapes()[static_cast<std::size_t>(i.param)].name;
                         });

}  // namespace
}  // namespace pythia::model

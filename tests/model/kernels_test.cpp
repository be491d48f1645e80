// model/kernels against model/kernels_reference (naive, double accumulation).
// Tolerances: layer_norm 1e-5 abs (outputs ~N(0,1)); gelu 1e-6 abs + 1e-6 rel; rotary 1e-6 abs
// (table vs direct formula, same float32 recipe); attention 1e-5 abs; softmax 1e-6 abs;
// sum_exp_shifted 1e-6 relative.
#include "model/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "model/kernels_reference.h"

namespace pythia::model {
namespace {

std::vector<float> random_vec(std::size_t n, unsigned seed, float scale = 1.0f, float mean = 0.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(mean, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b, long* first = nullptr,
                    double tol = 0.0) {
  double m = 0.0;
  if (first) *first = -1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double e = std::abs(static_cast<double>(a[i]) - b[i]);
    m = std::max(m, e);
    if (first && *first < 0 && e > tol) *first = static_cast<long>(i);
  }
  return m;
}

TEST(Kernels, LayerNormMatchesReference) {
  const int T = 5, C = 96;
  const auto x = random_vec(static_cast<std::size_t>(T) * C, 1, 3.0f, 0.5f);
  const auto g = random_vec(C, 2, 0.2f, 1.0f), b = random_vec(C, 3, 0.1f);
  std::vector<float> got(x.size()), want(x.size());
  layer_norm(T, C, x.data(), C, g.data(), b.data(), 1e-5f, got.data(), C);
  reference::layer_norm(T, C, x.data(), g.data(), b.data(), 1e-5f, want.data());
  long first;
  const double d = max_abs_diff(got, want, &first, 1e-5);
  std::printf("layer_norm max|diff| %.3g first>tol %ld\n", d, first);
  EXPECT_LT(d, 1e-5);
}

TEST(Kernels, GeluMatchesErfReference) {
  std::vector<float> x;
  for (float v = -10.0f; v <= 10.0f; v += 0.00731f) x.push_back(v);
  x.push_back(0.0f);
  std::vector<float> got = x;
  gelu_inplace(got.data(), got.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double want = reference::gelu(x[i]);
    const double e = std::abs(got[i] - want);
    worst = std::max(worst, e / (1e-6 + 1e-6 * std::abs(want)));
    EXPECT_LE(e, 1e-6 + 1e-6 * std::abs(want)) << "x=" << x[i];
  }
  std::printf("gelu: worst error / tolerance = %.3g over %zu points\n", worst, x.size());
}

TEST(Kernels, RotaryTableMatchesHfFormula) {
  for (const auto& [rot, D, base] : {std::tuple{16, 64, 10000.0}, std::tuple{16, 16, 50000.0},
                                     std::tuple{4, 16, 10000.0}}) {
    const RotaryTable table(rot, base, 2048);
    const auto inv = reference::rotary_inv_freq(rot, base);
    EXPECT_EQ(table.inv_freq(), inv);
    double worst = 0.0;
    for (const int pos : {0, 1, 7, 100, 1023, 2047}) {
      auto v = random_vec(static_cast<std::size_t>(D), static_cast<unsigned>(pos + 11));
      auto w = v;
      table.apply(v.data(), pos);
      reference::rotary(w.data(), rot, base, pos);
      worst = std::max(worst, max_abs_diff(v, w));
      for (int d = rot; d < D; ++d) EXPECT_EQ(v[static_cast<std::size_t>(d)], w[static_cast<std::size_t>(d)]);
    }
    std::printf("rotary R=%d D=%d base=%g max|diff| %.3g\n", rot, D, base, worst);
    EXPECT_LT(worst, 1e-6);
  }
  // Position 0 is the identity on every dim.
  const RotaryTable t(8, 10000.0, 4);
  auto v = random_vec(8, 5);
  const auto w = v;
  t.apply(v.data(), 0);
  EXPECT_EQ(v, w);
}

TEST(Kernels, SoftmaxMatchesReference) {
  for (const int n : {1, 5, 16, 17, 100, 2048}) {
    auto x = random_vec(static_cast<std::size_t>(n), static_cast<unsigned>(n), 4.0f);
    auto y = x;
    softmax_inplace(x.data(), n);
    reference::softmax(y.data(), n);
    const double d = max_abs_diff(x, y);
    EXPECT_LT(d, 1e-6) << "n=" << n;
  }
}

TEST(Kernels, SumExpShiftedIsAccurate) {
  const auto x = random_vec(50304, 9, 3.0f);
  float mx = x[0];
  for (float v : x) mx = std::max(mx, v);
  double want = 0.0;
  for (float v : x) want += std::exp(static_cast<double>(v) - mx);
  const double got = sum_exp_shifted(x.data(), x.size(), mx);
  std::printf("sum_exp_shifted relative error %.3g\n", std::abs(got - want) / want);
  EXPECT_LT(std::abs(got - want) / want, 1e-6);
  // Far below the shift underflows to 0, never NaN.
  const std::vector<float> tiny = {-200.0f, 0.0f};
  EXPECT_DOUBLE_EQ(sum_exp_shifted(tiny.data(), 2, 0.0f), 1.0);
}

// attention_chunk over every split of T positions into (past, chunk), and attention_one, against
// the full masked square of HF _attn.
TEST(Kernels, AttentionMatchesMaskedSquare) {
  const int T = 70, D = 16;
  const float scale = 0.25f;
  const auto q = random_vec(static_cast<std::size_t>(T) * D, 21);
  const auto k = random_vec(static_cast<std::size_t>(T) * D, 22);
  const auto v = random_vec(static_cast<std::size_t>(T) * D, 23);
  std::vector<float> want(q.size());
  reference::causal_attention(T, D, scale, q.data(), k.data(), v.data(), want.data());
  double worst = 0.0;
  // Keys and values packed as GptNeox packs them (pack_panels / pack_panels_transposed).
  std::vector<float> kp(static_cast<std::size_t>((T + 63) / 64) * 64 * D);
  std::vector<float> vp(static_cast<std::size_t>((D + 63) / 64) * 64 * T);
  pack_panels(k.data(), D, T, D, kp.data());
  pack_panels_transposed(v.data(), D, T, D, vp.data());
  const PanelView keys{kp.data(), T, D, static_cast<std::size_t>(D) * 64};
  const PanelView values{vp.data(), D, T, static_cast<std::size_t>(T) * 64};
  std::vector<float> first;
  for (const int chunk : {1, 7, 64, 70}) {
    std::vector<float> got(q.size());
    for (int t0 = 0; t0 < T; t0 += chunk) {
      const int nq = std::min(chunk, T - t0);
      std::vector<float> scratch(static_cast<std::size_t>(nq) * (t0 + nq));
      attention_chunk(nq, t0, D, scale, q.data() + static_cast<std::size_t>(t0) * D, D, keys, values,
                      got.data() + static_cast<std::size_t>(t0) * D, D, scratch.data());
    }
    worst = std::max(worst, max_abs_diff(got, want));
    // The chunking does not change any bit (fixed-order products).
    if (first.empty()) first = got;
    EXPECT_EQ(got, first) << "chunk " << chunk;
  }
  std::vector<float> one(q.size());
  for (int p = 0; p < T; ++p) {
    std::vector<float> scratch(static_cast<std::size_t>(p) + 1);
    attention_one(p, D, scale, q.data() + static_cast<std::size_t>(p) * D, k.data(), v.data(),
                  one.data() + static_cast<std::size_t>(p) * D, scratch.data());
  }
  const double worst_one = max_abs_diff(one, want);
  std::printf("attention max|diff|: chunked %.3g, one-query %.3g (tol 1e-5)\n", worst, worst_one);
  EXPECT_LT(worst, 1e-5);
  EXPECT_LT(worst_one, 1e-5);
}

// attention_one's scores follow a documented order (kernels.cpp): per key, 16 lane partial sums
// (lane = d mod 16, fma, d ascending), the tree s8[i]=a[i]+a[i+8], s4, s2, s1, then * scale.
// Emulated here element by element; the scores (hence the probabilities and outputs) must agree
// bit for bit, for key counts that exercise full 16-key groups and tails.
TEST(Kernels, AttentionOneFollowsItsDocumentedOrder) {
  const int D = 64;
  const float scale = 0.125f;
  for (const int pos : {0, 5, 15, 16, 17, 40, 100}) {
    const int L = pos + 1;
    const auto q = random_vec(static_cast<std::size_t>(D), 31);
    const auto k = random_vec(static_cast<std::size_t>(L) * D, 32);
    const auto v = random_vec(static_cast<std::size_t>(L) * D, 33);
    std::vector<float> p(static_cast<std::size_t>(L));
    for (int j = 0; j < L; ++j) {
      float a[16] = {};
      for (int d = 0; d < D; ++d) a[d % 16] = std::fma(q[static_cast<std::size_t>(d)], k[static_cast<std::size_t>(j) * D + d], a[d % 16]);
      float s8[8], s4[4];
      for (int i = 0; i < 8; ++i) s8[i] = a[i] + a[i + 8];
      for (int i = 0; i < 4; ++i) s4[i] = s8[i] + s8[i + 4];
      const float s = (s4[0] + s4[2]) + (s4[1] + s4[3]);
      p[static_cast<std::size_t>(j)] = s * scale;
    }
    softmax_inplace(p.data(), L);
    std::vector<float> want(static_cast<std::size_t>(D), 0.0f);
    for (int d = 0; d < D; ++d) {
      float acc = 0.0f;
      for (int j = 0; j < L; ++j) acc = std::fma(p[static_cast<std::size_t>(j)], v[static_cast<std::size_t>(j) * D + d], acc);
      want[static_cast<std::size_t>(d)] = acc;
    }
    std::vector<float> got(static_cast<std::size_t>(D)), scratch(static_cast<std::size_t>(L));
    attention_one(pos, D, scale, q.data(), k.data(), v.data(), got.data(), scratch.data());
    EXPECT_EQ(got, want) << "pos " << pos;
  }
}

}  // namespace
}  // namespace pythia::model

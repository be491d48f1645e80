#include "model/logit_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

namespace pythia::model {
namespace {

TEST(LogitOps, ArgmaxFirstIndexWinsOnTies) {
  const std::vector<float> v = {1.0f, 3.0f, 2.0f, 3.0f};
  EXPECT_EQ(argmax(v), 1);
  EXPECT_EQ(argmax(v, 1), 3);
  EXPECT_EQ(argmax(std::vector<float>{}), -1);
  EXPECT_EQ(argmax(std::vector<float>{5.0f}, 0), -1);
}

TEST(LogitOps, Top2OrdersAndBreaksTiesByAscendingId) {
  const std::vector<float> v = {0.5f, 2.0f, -1.0f, 2.0f, 1.5f};
  const Top2 t = top2(v);
  EXPECT_EQ(t.best_id, 1);
  EXPECT_EQ(t.second_id, 3);
  EXPECT_EQ(t.best, 2.0f);
  EXPECT_EQ(t.second, 2.0f);
  EXPECT_FALSE(t.any_nan);
  const Top2 u = top2(v, 1);
  EXPECT_EQ(u.best_id, 3);
  EXPECT_EQ(u.second_id, 4);
  EXPECT_EQ(u.second, 1.5f);
}

TEST(LogitOps, Top2SecondWhenBestComesLater) {
  const std::vector<float> v = {4.0f, 1.0f, 9.0f, 3.0f};
  const Top2 t = top2(v);
  EXPECT_EQ(t.best_id, 2);
  EXPECT_EQ(t.second_id, 0);
  EXPECT_EQ(t.second, 4.0f);
}

TEST(LogitOps, Top2ExcludesEosAndReportsNan) {
  const std::vector<float> v = {10.0f, std::nanf(""), 1.0f};
  const Top2 t = top2(v, 0);
  EXPECT_EQ(t.best_id, 2);
  EXPECT_EQ(t.second_id, -1);
  EXPECT_TRUE(t.any_nan);
  const Top2 one = top2(std::vector<float>{7.0f});
  EXPECT_EQ(one.best_id, 0);
  EXPECT_EQ(one.second_id, -1);
  EXPECT_EQ(one.second, -std::numeric_limits<float>::infinity());
}

TEST(LogitOps, LogsumexpMatchesDirectFormula) {
  const std::vector<float> v = {0.1f, -2.0f, 3.5f, 1.25f};
  double s = 0.0;
  for (float x : v) s += std::exp(static_cast<double>(x));
  // exp is evaluated in float (|relative error| < 2e-7, logit_ops.h), the sum in double.
  EXPECT_NEAR(logsumexp(v), std::log(s), 1e-6);
  // Large values do not overflow thanks to the max shift.
  const std::vector<float> big = {1000.0f, 1000.0f};
  EXPECT_NEAR(logsumexp(big), 1000.0 + std::log(2.0), 1e-6);
  const float ninf = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(logsumexp(std::vector<float>{ninf, ninf}), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(logsumexp(std::vector<float>{1.0f, std::nanf("")})));
}

// The vectorised implementation against a naive scan, on full-width rows with planted ties,
// exclusions at various places, -inf and NaN.
TEST(LogitOps, FullRowsMatchNaiveScan) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> d(-10.0f, 10.0f);
  const int n = 50304;
  int checked = 0;
  for (int trial = 0; trial < 40; ++trial) {
    std::vector<float> v(n);
    for (auto& x : v) x = std::round(d(rng) * 4.0f) / 4.0f;  // many exact ties
    if (trial % 5 == 1) v[static_cast<std::size_t>(rng() % n)] = 50.0f;
    if (trial % 5 == 2) {
      const float top = 60.0f;
      v[17] = top;
      v[40000] = top;
    }
    if (trial % 7 == 3) v[static_cast<std::size_t>(rng() % n)] = std::nanf("");
    if (trial % 9 == 4) v.assign(static_cast<std::size_t>(n), -std::numeric_limits<float>::infinity());
    for (const int excluded : {-1, 0, 17, n - 1, static_cast<int>(rng() % n)}) {
      // Naive reference.
      int best = -1, second = -1;
      bool nan = false;
      for (int i = 0; i < n; ++i) {
        if (i == excluded) continue;
        const float x = v[static_cast<std::size_t>(i)];
        if (std::isnan(x)) { nan = true; continue; }
        if (best < 0 || x > v[static_cast<std::size_t>(best)]) best = i;
      }
      for (int i = 0; i < n; ++i) {
        if (i == excluded || i == best) continue;
        const float x = v[static_cast<std::size_t>(i)];
        if (std::isnan(x)) continue;
        if (second < 0 || x > v[static_cast<std::size_t>(second)]) second = i;
      }
      const Top2 t = top2(v, excluded);
      ASSERT_EQ(argmax(v, excluded), best) << "trial " << trial << " excluded " << excluded;
      ASSERT_EQ(t.best_id, best) << "trial " << trial;
      ASSERT_EQ(t.second_id, second) << "trial " << trial;
      ASSERT_EQ(t.any_nan, nan) << "trial " << trial;
      if (second >= 0) {
        ASSERT_EQ(t.second, v[static_cast<std::size_t>(second)]);
      }
      ++checked;
    }
  }
  std::printf("top2/argmax: %d full rows agree with the naive scan\n", checked);
}

}  // namespace
}  // namespace pythia::model

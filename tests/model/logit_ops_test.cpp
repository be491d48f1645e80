#include "model/logit_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
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

}  // namespace
}  // namespace pythia::model

// model/kernels: the AVX2+FMA paths of gelu_inplace, softmax_inplace, sum_exp_shifted and
// attention_one give the AVX-512 paths' bits (same operations and reduction order, 8 lanes at a time), and every path
// (AVX-512, AVX2, scalar) agrees with the scalar std:: reference within the documented error.
// The ISA is switched with set_gemm_isa_for_testing (kernels follow the GEMM's choice).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "model/gemm.h"
#include "model/kernels.h"

namespace pythia::model {
namespace {

class KernelsIsaTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = gemm_isa(); }
  void TearDown() override { set_gemm_isa_for_testing(saved_); }
  GemmIsa saved_{};
};

const GemmIsa kAll[] = {GemmIsa::kAvx512, GemmIsa::kAvx2, GemmIsa::kPortable};
const int kLengths[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 1000, 50304};

std::vector<float> random_vec(std::size_t n, unsigned seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b, const char* what) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) {
      std::printf("  %s: first bit mismatch at %zu: %.9g vs %.9g\n", what, i, a[i], b[i]);
      return false;
    }
  return true;
}

TEST_F(KernelsIsaTest, GeluSameBitsOnSimdPathsAndCloseToErf) {
  double worst = 0.0;
  for (const int n : kLengths) {
    auto x = random_vec(static_cast<std::size_t>(n), 10 + static_cast<unsigned>(n), 3.0f);
    if (n > 3) x[0] = 6.0f, x[1] = -6.0f, x[2] = 0.0f;
    std::vector<float> ref;
    for (GemmIsa isa : kAll) {
      if (!set_gemm_isa_for_testing(isa)) continue;
      std::vector<float> y = x;
      gelu_inplace(y.data(), y.size());
      for (std::size_t i = 0; i < y.size(); ++i) {
        const double e = x[i] * 0.5 * (1.0 + std::erf(x[i] / std::sqrt(2.0)));
        worst = std::max(worst, std::abs(y[i] - e));
      }
      if (isa == GemmIsa::kPortable) continue;
      if (ref.empty()) ref = y;
      else EXPECT_TRUE(same_bits(y, ref, "gelu avx2 vs avx512")) << "n=" << n;
    }
  }
  std::printf("gelu: max |y - double erf formula| over all paths %.3g (tol 5e-6 for |x| <~ 10)\n",
              worst);
  EXPECT_LT(worst, 5e-6);
}

TEST_F(KernelsIsaTest, SoftmaxSameBitsOnSimdPathsAndCloseToDouble) {
  // Error vs a double-precision softmax: per element |y - p| <= 1e-7 + rel * p, rel = 2e-5 on the
  // SIMD paths (16 fp32 lane sums) and 1e-4 on the scalar one (one sequential fp32 sum, measured
  // 7e-5 at n = 50304).
  double worst_abs = 0.0, worst_rel = 0.0;
  for (const int n : kLengths) {
    auto x = random_vec(static_cast<std::size_t>(n), 20 + static_cast<unsigned>(n), 4.0f);
    if (n > 4) x[3] = -std::numeric_limits<float>::infinity();  // a masked score
    double mx = -INFINITY, sum = 0.0;
    for (float v : x) mx = std::max(mx, static_cast<double>(v));
    for (float v : x) sum += std::exp(v - mx);
    std::vector<float> ref;
    for (GemmIsa isa : kAll) {
      if (!set_gemm_isa_for_testing(isa)) continue;
      std::vector<float> y = x;
      softmax_inplace(y.data(), n);
      for (int i = 0; i < n; ++i) {
        const double p = std::exp(x[i] - mx) / sum, d = std::abs(y[i] - p);
        worst_abs = std::max(worst_abs, d);
        if (p > 1e-30) worst_rel = std::max(worst_rel, d / p);
        const double rel = isa == GemmIsa::kPortable ? 1e-4 : 2e-5;
        EXPECT_LE(d, 1e-7 + rel * p) << gemm_isa_name(isa) << " n=" << n << " i=" << i;
      }
      if (isa == GemmIsa::kPortable) continue;
      if (ref.empty()) ref = y;
      else EXPECT_TRUE(same_bits(y, ref, "softmax avx2 vs avx512")) << "n=" << n;
    }
  }
  std::printf("softmax: max |y - double softmax| %.3g, max relative %.3g over all paths\n",
              worst_abs, worst_rel);
}

TEST_F(KernelsIsaTest, SumExpSameBitsOnSimdPathsAndCloseToDouble) {
  double worst = 0.0;
  for (const int n : kLengths) {
    auto x = random_vec(static_cast<std::size_t>(n), 30 + static_cast<unsigned>(n), 5.0f);
    if (n > 5) x[4] = -200.0f;  // underflows to 0
    const float shift = 3.0f;
    double exact = 0.0, ref = -1.0;
    for (int i = 0; i < n; ++i) exact += std::exp(static_cast<double>(x[i]) - shift);
    for (GemmIsa isa : kAll) {
      if (!set_gemm_isa_for_testing(isa)) continue;
      const double s = sum_exp_shifted(x.data(), x.size(), shift);
      worst = std::max(worst, std::abs(s - exact) / exact);
      if (isa == GemmIsa::kPortable) continue;
      if (ref < 0) ref = s;
      else EXPECT_EQ(std::memcmp(&s, &ref, sizeof s), 0)
          << "sum_exp avx2 " << s << " vs avx512 " << ref << " n=" << n;
    }
  }
  std::printf("sum_exp_shifted: max relative error vs double exp %.3g (tol 1e-6)\n", worst);
  EXPECT_LT(worst, 1e-6);
}

TEST_F(KernelsIsaTest, AttentionOneSameBitsOnEveryPath) {
  // The AVX-512 and AVX2 paths give the same bits (kernels_test checks each path, run under
  // PYTHIA_GEMM_ISA, against the order written out element by element).
  for (const int D : {16, 64, 80}) {
    for (const int pos : {0, 7, 15, 16, 33, 130}) {
      const int L = pos + 1;
      const auto q = random_vec(static_cast<std::size_t>(D), 41, 1.0f);
      const auto k = random_vec(static_cast<std::size_t>(L) * D, 42, 1.0f);
      const auto v = random_vec(static_cast<std::size_t>(L) * D, 43, 1.0f);
      std::vector<float> ref;
      for (GemmIsa isa : {GemmIsa::kAvx512, GemmIsa::kAvx2}) {
        if (!set_gemm_isa_for_testing(isa)) continue;
        std::vector<float> out(static_cast<std::size_t>(D)), scratch(static_cast<std::size_t>(L));
        attention_one(pos, D, 0.125f, q.data(), k.data(), v.data(), out.data(), scratch.data());
        if (ref.empty()) ref = out;
        else EXPECT_TRUE(same_bits(out, ref, "attention_one avx2 vs avx512")) << "D=" << D << " pos=" << pos;
      }
    }
  }
}

}  // namespace
}  // namespace pythia::model

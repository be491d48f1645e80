// model/gemm: the sgemm wrappers against a double reference, and the position invariance of
// matmul_packed (bit-exact: a row's result must not depend on M, on the row's position
// or on the other rows).
#include "model/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <tuple>
#include <vector>

namespace pythia::model {
namespace {

std::vector<float> random_vec(std::size_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Y = X W^T + b in double; returns max |got - ref| relative to sum |x w|.
double max_rel_err(int M, int N, int K, const std::vector<float>& X, const std::vector<float>& W,
                   const float* bias, const std::vector<float>& Y) {
  double worst = 0.0;
  for (int m = 0; m < M; ++m) {
    for (int n = 0; n < N; ++n) {
      double s = bias ? bias[n] : 0.0, mag = bias ? std::abs(bias[n]) : 0.0;
      for (int k = 0; k < K; ++k) {
        const double p = static_cast<double>(X[static_cast<std::size_t>(m) * K + k]) * W[static_cast<std::size_t>(n) * K + k];
        s += p;
        mag += std::abs(p);
      }
      worst = std::max(worst, std::abs(Y[static_cast<std::size_t>(m) * N + n] - s) / mag);
    }
  }
  return worst;
}

TEST(Gemm, LinearSgemmMatchesDoubleReference) {
  const int M = 37, N = 53, K = 70;
  const auto X = random_vec(static_cast<std::size_t>(M) * K, 1);
  const auto W = random_vec(static_cast<std::size_t>(N) * K, 2);
  const auto b = random_vec(N, 3);
  std::vector<float> Y(static_cast<std::size_t>(M) * N);
  linear_sgemm(M, N, K, X.data(), K, W.data(), b.data(), Y.data(), N);
  const double err = max_rel_err(M, N, K, X, W, b.data(), Y);
  std::printf("linear_sgemm max relative error %.3g (tol 1e-5)\n", err);
  EXPECT_LT(err, 1e-5);
}

TEST(Gemm, PackedWeightKeepsEveryElement) {
  const int N = 70, K = 9;
  const auto W = random_vec(static_cast<std::size_t>(N) * K, 10);
  const PackedWeight P(W.data(), N, K);
  EXPECT_EQ(P.n_panels(), 2);
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k) ASSERT_EQ(P.at(n, k), W[static_cast<std::size_t>(n) * K + k]);
}

TEST(Gemm, PackedProductMatchesDoubleReference) {
  for (const auto& [M, N, K] : {std::tuple{7, 11, 1}, std::tuple{13, 64, 17}, std::tuple{6, 130, 512},
                                std::tuple{100, 300, 96}}) {
    const auto X = random_vec(static_cast<std::size_t>(M) * K, 4);
    const auto W = random_vec(static_cast<std::size_t>(N) * K, 5);
    const auto b = random_vec(static_cast<std::size_t>(N), 6);
    const PackedWeight P(W.data(), N, K);
    std::vector<float> Y(static_cast<std::size_t>(M) * N), Yn(Y.size());
    matmul_packed(M, X.data(), K, P, b.data(), Y.data(), N);
    matmul_packed(M, X.data(), K, P, nullptr, Yn.data(), N);
    const double err = max_rel_err(M, N, K, X, W, b.data(), Y);
    const double err_nobias = max_rel_err(M, N, K, X, W, nullptr, Yn);
    std::printf("matmul_packed M=%d N=%d K=%d max relative error %.3g / %.3g without bias (tol 1e-5)\n",
                M, N, K, err, err_nobias);
    EXPECT_LT(err, 1e-5);
    EXPECT_LT(err_nobias, 1e-5);
  }
}

TEST(Gemm, PackedProductIsBitExactWhateverTheBatch) {
  // Large enough for the parallel path (several row blocks and panel groups) and every tile
  // remainder; compared with the element-by-element formula and with other batchings.
  const int K = 200, N = 1031, M = 203;
  const auto X = random_vec(static_cast<std::size_t>(M) * K, 7);
  const auto W = random_vec(static_cast<std::size_t>(N) * K, 8);
  const auto b = random_vec(N, 9);
  const PackedWeight P(W.data(), N, K);
  std::vector<float> full(static_cast<std::size_t>(M) * N), portable(full.size());
  matmul_packed(M, X.data(), K, P, b.data(), full.data(), N);
  matmul_packed_portable(M, X.data(), K, P, b.data(), portable.data(), N);
  EXPECT_EQ(std::memcmp(full.data(), portable.data(), sizeof(float) * full.size()), 0)
      << "SIMD kernel differs from the documented fma chain";
  int mismatches = 0;
  for (int m = 0; m < M; m += 17) {  // rows alone
    std::vector<float> one(static_cast<std::size_t>(N));
    matmul_packed(1, X.data() + static_cast<std::size_t>(m) * K, K, P, b.data(), one.data(), N);
    if (std::memcmp(one.data(), full.data() + static_cast<std::size_t>(m) * N, sizeof(float) * N) != 0) ++mismatches;
  }
  for (const int sub : {2, 5, 7, 13, 64, 97}) {  // reversed rows inside batches of other sizes
    std::vector<float> Xr(static_cast<std::size_t>(sub) * K), Yr(static_cast<std::size_t>(sub) * N);
    for (int i = 0; i < sub; ++i)
      std::memcpy(Xr.data() + static_cast<std::size_t>(i) * K, X.data() + static_cast<std::size_t>(sub - 1 - i) * K, sizeof(float) * K);
    matmul_packed(sub, Xr.data(), K, P, b.data(), Yr.data(), N);
    for (int i = 0; i < sub; ++i)
      if (std::memcmp(Yr.data() + static_cast<std::size_t>(i) * N,
                      full.data() + static_cast<std::size_t>(sub - 1 - i) * N, sizeof(float) * N) != 0)
        ++mismatches;
  }
  std::printf("position invariance: %d rows differ bitwise (must be 0)\n", mismatches);
  EXPECT_EQ(mismatches, 0);
}

TEST(Gemm, BlasIsSingleThreaded) {
  use_single_threaded_blas();
  const std::string cfg = blas_config();
  std::printf("%s\n", cfg.c_str());
  EXPECT_NE(cfg.find("threads 1)"), std::string::npos);
}

}  // namespace
}  // namespace pythia::model

// model/gemm: the sgemm wrappers against a double reference, and the position invariance of
// matmul_rows_invariant (bit-exact: a row's result must not depend on M, on the row's position
// or on the other rows).
#include "model/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
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

TEST(Gemm, InvariantKernelMatchesDoubleReference) {
  for (const int K : {1, 15, 16, 17, 64, 100, 512}) {
    const int M = 7, N = 11;
    const auto X = random_vec(static_cast<std::size_t>(M) * K, 4);
    const auto W = random_vec(static_cast<std::size_t>(N) * K, 5);
    const auto b = random_vec(N, 6);
    std::vector<float> Y(static_cast<std::size_t>(M) * N);
    matmul_rows_invariant(M, N, K, X.data(), K, W.data(), b.data(), Y.data(), N);
    const double err = max_rel_err(M, N, K, X, W, b.data(), Y);
    std::printf("matmul_rows_invariant K=%d max relative error %.3g (tol 1e-5)\n", K, err);
    EXPECT_LT(err, 1e-5) << "K=" << K;
  }
}

TEST(Gemm, InvariantKernelIsBitExactWhateverTheBatch) {
  // Big enough to take the parallel path (M*N*K >= 1e6) and all tile remainders.
  const int K = 200, N = 1031, M = 13;
  const auto X = random_vec(static_cast<std::size_t>(M) * K, 7);
  const auto W = random_vec(static_cast<std::size_t>(N) * K, 8);
  const auto b = random_vec(N, 9);
  std::vector<float> full(static_cast<std::size_t>(M) * N);
  matmul_rows_invariant(M, N, K, X.data(), K, W.data(), b.data(), full.data(), N);
  int mismatches = 0;
  // Each row alone.
  for (int m = 0; m < M; ++m) {
    std::vector<float> one(N);
    matmul_rows_invariant(1, N, K, X.data() + static_cast<std::size_t>(m) * K, K, W.data(), b.data(),
                          one.data(), N);
    if (std::memcmp(one.data(), full.data() + static_cast<std::size_t>(m) * N, sizeof(float) * N) != 0) ++mismatches;
  }
  // Rows in reverse order, inside a batch of other sizes (M = 5 .. 13).
  for (int sub = 5; sub <= M; ++sub) {
    std::vector<float> Xr(static_cast<std::size_t>(sub) * K), Yr(static_cast<std::size_t>(sub) * N);
    for (int i = 0; i < sub; ++i)
      std::memcpy(Xr.data() + static_cast<std::size_t>(i) * K, X.data() + static_cast<std::size_t>(sub - 1 - i) * K, sizeof(float) * K);
    matmul_rows_invariant(sub, N, K, Xr.data(), K, W.data(), b.data(), Yr.data(), N);
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

// model/gemm_bf16: (1) on a CPU with AVX512_BF16, vdpbf16ps equals the written definition
// (bf16_dot_pair_reference: fused odd-then-even steps, DAZ/FTZ) bit for bit on random data with
// normal, subnormal, huge, infinite and NaN inputs (NaN payloads aside), and vcvtneps2bf16 equals
// f32_to_bf16_daz; (2) matmul_bf16 gives the same bits on every ISA and is position-invariant;
// (3) Bf16Weight rounds fp16/fp32 panels to bf16 (RNE) and keeps bf16 ones; (4) the bf16 product
// stays within the bf16 rounding bound of the fp32 product.
#include "model/gemm_bf16.h"

#include <gtest/gtest.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "model/float16.h"

namespace pythia::model {
namespace {

bool same_bits_or_both_nan(float a, float b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

// A bf16 pattern: mode 0 moderate exponents, 1 tiny (subnormal / near the underflow), 2 huge
// (overflow / inf / NaN), 3 any of them.
std::uint16_t random_bf16(std::mt19937_64& g, int mode) {
  if (mode == 3) mode = static_cast<int>(g() % 3);
  std::uint16_t h = static_cast<std::uint16_t>(g());
  int e = 0;
  if (mode == 0) e = 127 + static_cast<int>(g() % 40) - 20;
  else if (mode == 1) e = static_cast<int>(g() % 70);
  else e = 255 - static_cast<int>(g() % 70);
  return static_cast<std::uint16_t>((h & 0x807f) | (e << 7));
}

__attribute__((target("avx512f,avx512bf16"))) void hw_dpbf16(const float* c, const std::uint16_t* a,
                                                             const std::uint16_t* b, float* r) {
  const __m512bh A = (__m512bh)_mm512_loadu_si512(a), B = (__m512bh)_mm512_loadu_si512(b);
  _mm512_storeu_ps(r, _mm512_dpbf16_ps(_mm512_loadu_ps(c), A, B));
}

__attribute__((target("avx512f,avx512bf16"))) void hw_cvt(const float* x, std::uint16_t* r) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(r), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x)));
}

TEST(GemmBf16, VdpBf16PsEqualsTheDefinition) {
  if (!bf16_isa_supported(Bf16Isa::kAvx512Bf16)) GTEST_SKIP() << "no AVX512_BF16 on this CPU";
  std::mt19937_64 g(1);
  long n = 0, bad = 0, nan_results = 0, subnormal_inputs = 0;
  for (int it = 0; it < 200000; ++it) {
    const int mode = it % 4;
    std::uint16_t a[32], b[32];
    float c[16], r[16];
    for (int i = 0; i < 32; ++i) a[i] = random_bf16(g, mode), b[i] = random_bf16(g, mode);
    for (int i = 0; i < 16; ++i) {
      std::uint32_t u = static_cast<std::uint32_t>(g());
      if (mode == 0) c[i] = static_cast<float>(static_cast<std::int64_t>(g() % 2000001) - 1000000) * 1e-3f;
      else c[i] = std::bit_cast<float>(mode == 1 ? (u & 0x80ffffffu) : u);
    }
    hw_dpbf16(c, a, b, r);
    for (int i = 0; i < 16; ++i) {
      ++n;
      const float want = bf16_dot_pair_reference(c[i], a[2 * i], a[2 * i + 1], b[2 * i], b[2 * i + 1]);
      if (std::isnan(want)) ++nan_results;
      if ((a[2 * i] & 0x7f80) == 0 && (a[2 * i] & 0x7f) != 0) ++subnormal_inputs;
      if (!same_bits_or_both_nan(r[i], want)) {
        if (bad < 5)
          std::printf("  mismatch: c=%a a=(%04x,%04x) b=(%04x,%04x) hw=%a ref=%a\n", c[i], a[2 * i],
                      a[2 * i + 1], b[2 * i], b[2 * i + 1], r[i], want);
        ++bad;
      }
    }
  }
  std::printf("vdpbf16ps vs definition: %ld lanes, %ld differ (%ld NaN results, %ld subnormal inputs)\n",
              n, bad, nan_results, subnormal_inputs);
  EXPECT_EQ(bad, 0);
  EXPECT_GT(nan_results, 1000);
  EXPECT_GT(subnormal_inputs, 1000);
}

TEST(GemmBf16, ActivationRoundingEqualsVcvtneps2bf16) {
  if (!bf16_isa_supported(Bf16Isa::kAvx512Bf16)) GTEST_SKIP() << "no AVX512_BF16 on this CPU";
  std::mt19937_64 g(2);
  long bad = 0;
  for (int it = 0; it < 200000; ++it) {
    float x[16];
    std::uint16_t r[16];
    for (int i = 0; i < 16; ++i) {
      std::uint32_t u = static_cast<std::uint32_t>(g());
      const int m = static_cast<int>(g() % 4);
      if (m == 1) u &= 0x80ffffffu;   // subnormal or tiny
      if (m == 2) u |= 0x7f800000u;   // inf / NaN
      if (m == 3) u = (u & 0xffff0000u) | 0x8000u;  // exact ties
      x[i] = std::bit_cast<float>(u);
    }
    hw_cvt(x, r);
    for (int i = 0; i < 16; ++i) bad += r[i] != f32_to_bf16_daz(x[i]);
  }
  EXPECT_EQ(bad, 0);
}

std::vector<float> random_floats(std::size_t n, unsigned seed, bool special) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) {
    x = d(g);
    if (special) {
      const auto r = g() % 50;
      if (r == 0) x = std::bit_cast<float>(static_cast<std::uint32_t>(g() & 0x807fffffu));  // subnormal
      else if (r == 1) x *= 1e-39f;
      else if (r == 2) x = (g() & 1) ? 1e30f : -1e30f;
    }
  }
  return v;
}

class GemmBf16Isa : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = bf16_isa(); }
  void TearDown() override { set_bf16_isa_for_testing(saved_); }
  Bf16Isa saved_{};
};

std::vector<float> run(Bf16Isa isa, int M, const std::vector<float>& X, int ldx, const Bf16Weight& W,
                       const float* bias, int ldy) {
  EXPECT_TRUE(set_bf16_isa_for_testing(isa));
  std::vector<float> Y(static_cast<std::size_t>(M) * ldy, 777.0f);
  matmul_bf16(M, X.data(), ldx, W, bias, Y.data(), ldy);
  return Y;
}

TEST_F(GemmBf16Isa, EveryIsaGivesTheSameBitsAndRowsArePositionInvariant) {
  struct Shape { int M, N, K; bool special; };
  const Shape shapes[] = {{1, 1, 1, false}, {7, 65, 33, true}, {13, 200, 127, true},
                          {6, 64, 64, false}, {37, 130, 256, true}, {100, 300, 301, false}};
  unsigned seed = 10;
  for (const Shape& s : shapes) {
    const int ldx = s.K + 3, ldy = s.N + 5;
    const auto X = random_floats(static_cast<std::size_t>(s.M) * ldx, seed++, s.special);
    const auto Wf = random_floats(static_cast<std::size_t>(s.N) * s.K, seed++, s.special);
    const auto bias = random_floats(static_cast<std::size_t>(s.N), seed++, false);
    const Bf16Weight W(PackedWeight(Wf.data(), s.N, s.K));
    const auto ref = run(Bf16Isa::kPortable, s.M, X, ldx, W, bias.data(), ldy);
    for (Bf16Isa isa : {Bf16Isa::kAvx512Bf16}) {
      if (!bf16_isa_supported(isa)) continue;
      const auto y = run(isa, s.M, X, ldx, W, bias.data(), ldy);
      int bad = 0, outside = 0;
      for (int m = 0; m < s.M; ++m)
        for (int n = 0; n < ldy; ++n) {
          const std::size_t i = static_cast<std::size_t>(m) * ldy + n;
          if (n >= s.N) outside += y[i] != 777.0f;
          else bad += !same_bits_or_both_nan(y[i], ref[i]);
        }
      EXPECT_EQ(bad, 0) << "M=" << s.M << " N=" << s.N << " K=" << s.K;
      EXPECT_EQ(outside, 0);
      // Each row alone gives the bits it had inside the batch.
      for (int m = 0; m < s.M; m += 5) {
        const std::vector<float> row(X.begin() + static_cast<std::ptrdiff_t>(m) * ldx,
                                     X.begin() + static_cast<std::ptrdiff_t>(m + 1) * ldx);
        const auto y1 = run(isa, 1, row, ldx, W, bias.data(), ldy);
        for (int n = 0; n < s.N; ++n)
          ASSERT_TRUE(same_bits_or_both_nan(y1[n], y[static_cast<std::size_t>(m) * ldy + n]))
              << "row " << m << " col " << n;
      }
    }
  }
}

TEST(GemmBf16, WeightsRoundedToBf16OrKept) {
  const int N = 70, K = 9;
  const auto Wf = random_floats(static_cast<std::size_t>(N) * K, 3, true);
  std::vector<std::uint16_t> h(Wf.size()), b(Wf.size());
  for (std::size_t i = 0; i < Wf.size(); ++i) h[i] = f32_to_f16(Wf[i]), b[i] = f32_to_bf16(Wf[i]);
  const Bf16Weight from32(PackedWeight(Wf.data(), N, K));
  const Bf16Weight from16(PackedWeight(PanelDType::kF16, h.data(), N, K));
  const Bf16Weight frombf(PackedWeight(PanelDType::kBF16, b.data(), N, K));
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k) {
      const std::size_t i = static_cast<std::size_t>(n) * K + k;
      EXPECT_EQ(from32.at(n, k), f32_to_bf16(Wf[i]));
      EXPECT_EQ(from16.at(n, k), f32_to_bf16(f16_to_f32(h[i])));
      EXPECT_EQ(frombf.at(n, k), b[i]);
    }
  EXPECT_EQ(from32.at(3, K), 0);  // the odd tail pairs with a zero
}

TEST(GemmBf16, WithinTheBf16RoundingBoundOfFp32) {
  const int M = 20, N = 150, K = 512;
  const auto X = random_floats(static_cast<std::size_t>(M) * K, 5, false);
  const auto Wf = random_floats(static_cast<std::size_t>(N) * K, 6, false);
  const PackedWeight W32(Wf.data(), N, K);
  const Bf16Weight W(W32);
  std::vector<float> y(static_cast<std::size_t>(M) * N), y32(y.size());
  matmul_bf16(M, X.data(), K, W, nullptr, y.data(), N);
  matmul_packed(M, X.data(), K, W32, nullptr, y32.data(), N);
  double worst = 0.0;
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double abs_sum = 0.0;
      for (int k = 0; k < K; ++k)
        abs_sum += std::abs(static_cast<double>(X[static_cast<std::size_t>(m) * K + k]) *
                            Wf[static_cast<std::size_t>(n) * K + k]);
      // two bf16 roundings (2^-9 relative each) plus fp32 accumulation
      const double bound = abs_sum * (2.0 * std::ldexp(1.0, -9) + K * std::ldexp(1.0, -24));
      const std::size_t i = static_cast<std::size_t>(m) * N + n;
      const double d = std::abs(static_cast<double>(y[i]) - y32[i]);
      EXPECT_LE(d, bound);
      worst = std::max(worst, d / abs_sum);
    }
  std::printf("bf16 vs fp32: worst |diff| / sum|x w| = %.3g\n", worst);
  EXPECT_GT(worst, 0.0);  // bf16 really is a different computation
}

}  // namespace
}  // namespace pythia::model

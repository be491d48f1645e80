// Measured peak arithmetic rate of this CPU for the GEMM inner loops, the denominator of the
// benches' "% of peak": 12 independent accumulator chains (enough to cover the latency) of
// AVX-512 vfmadd231ps (32 FLOP per instruction: 16 lanes x mul+add) and of AVX512_BF16
// vdpbf16ps (64 FLOP: 16 lanes x 2 products + 2 adds), run on `threads` threads at once.
// Returns 0 when the CPU lacks the instruction. Header-only (benchmarks only).
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include <chrono>
#include <cstdio>

namespace pythia::bench {

constexpr long kPeakIters = 20'000'000;

__attribute__((target("avx512f"), noinline)) inline float peak_fma_loop(long iters) {
  __m512 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm512_set1_ps(1e-3f * static_cast<float>(i));
  const __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(1e-6f);
  for (long n = 0; n < iters; ++n)
    for (int i = 0; i < 12; ++i) a[i] = _mm512_fmadd_ps(a[i], x, y);
  __m512 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, a[i]);
  alignas(64) float out[16];
  _mm512_store_ps(out, s);
  return out[0] + out[15];
}

__attribute__((target("avx512f,avx512bf16"), noinline)) inline float peak_dpbf16_loop(long iters) {
  __m512 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm512_set1_ps(1e-3f * static_cast<float>(i));
  const __m512bh x = (__m512bh)_mm512_set1_epi32(0x3f803f80), y = (__m512bh)_mm512_set1_epi32(0x33803380);
  for (long n = 0; n < iters; ++n)
    for (int i = 0; i < 12; ++i) a[i] = _mm512_dpbf16_ps(a[i], x, y);
  __m512 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, a[i]);
  alignas(64) float out[16];
  _mm512_store_ps(out, s);
  return out[0] + out[15];
}

// GFLOP/s of `threads` concurrent loops; flop_per_instr 32 (fma) or 64 (dpbf16).
template <typename Loop>
double peak_rate(Loop loop, double flop_per_instr, int threads) {
  const auto t0 = std::chrono::steady_clock::now();
  volatile float sink = 0;
  tbb::parallel_for(0, threads, [&](int) { sink = sink + loop(kPeakIters); }, tbb::static_partitioner());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return flop_per_instr * 12.0 * static_cast<double>(kPeakIters) * threads / s / 1e9;
}

inline double peak_fma_gflops(int threads) {
  return __builtin_cpu_supports("avx512f") ? peak_rate(peak_fma_loop, 32, threads) : 0.0;
}
inline double peak_dpbf16_gflops(int threads) {
  return __builtin_cpu_supports("avx512bf16") ? peak_rate(peak_dpbf16_loop, 64, threads) : 0.0;
}

}  // namespace pythia::bench

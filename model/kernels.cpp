#include "model/kernels.h"

// GCC 12's AVX-512 intrinsic headers use _mm*_undefined_*() and trip -Wuninitialized inside
// them (GCC bug 105593, fixed in 13); the warnings are about the headers, not our code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "model/gemm.h"

namespace pythia::model {
namespace {

// The SIMD paths follow the GEMM's ISA choice (gemm.h: best the CPU has, or PYTHIA_GEMM_ISA /
// set_gemm_isa_for_testing), so one switch selects AVX-512, AVX2+FMA or the scalar code.
bool have_avx512() { return gemm_isa() == GemmIsa::kAvx512; }
bool have_avx2() { return gemm_isa() == GemmIsa::kAvx2; }

// ---- AVX-512 math --------------------------------------------------------------------------
// expf: Cephes polynomial on r = x - n ln2 (n = round(x log2 e)), scaled by 2^n with vscalefps.
// |relative error| < 2e-7 for x in [-87.3, 88.7]; below that the result is 0 (also for -inf).
__attribute__((target("avx512f"))) inline __m512 exp16(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-87.33654f);
  const __m512 hi = _mm512_set1_ps(88.72283f);
  const __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
  x = _mm512_max_ps(_mm512_min_ps(x, hi), lo);
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 r2 = _mm512_mul_ps(r, r);
  __m512 y = _mm512_fmadd_ps(p, r2, r);
  y = _mm512_add_ps(y, _mm512_set1_ps(1.0f));
  y = _mm512_scalef_ps(y, n);
  return _mm512_maskz_mov_ps(static_cast<__mmask16>(~under), y);
}

// erf: rational approximation of Eigen's generic_fast_erf_float (inputs clamped to [-4, 4], where
// erf is +-1 in float).
__attribute__((target("avx512f"))) inline __m512 erf16(__m512 a) {
  const __m512 x = _mm512_max_ps(_mm512_min_ps(a, _mm512_set1_ps(4.0f)), _mm512_set1_ps(-4.0f));
  const __m512 x2 = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(-2.72614225801306e-10f);
  p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(2.77068142495902e-08f));
  p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-2.10102402082508e-06f));
  p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-5.69250639462346e-05f));
  p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-7.34990630326855e-04f));
  p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-2.95459980854025e-03f));
  p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-1.60960333262415e-02f));
  p = _mm512_mul_ps(x, p);
  __m512 q = _mm512_set1_ps(-1.45660718464996e-05f);
  q = _mm512_fmadd_ps(x2, q, _mm512_set1_ps(-2.13374055278905e-04f));
  q = _mm512_fmadd_ps(x2, q, _mm512_set1_ps(-1.68282697438203e-03f));
  q = _mm512_fmadd_ps(x2, q, _mm512_set1_ps(-7.37332916720468e-03f));
  q = _mm512_fmadd_ps(x2, q, _mm512_set1_ps(-1.42647390514189e-02f));
  return _mm512_div_ps(p, q);
}

__attribute__((target("avx512f"))) void gelu_avx512(float* x, std::size_t n) {
  const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
  const __m512 rsqrt2 = _mm512_set1_ps(static_cast<float>(M_SQRT1_2));
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __m512 e = erf16(_mm512_mul_ps(v, rsqrt2));
    _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_mul_ps(v, half), _mm512_add_ps(one, e)));
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    const __m512 e = erf16(_mm512_mul_ps(v, rsqrt2));
    _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_mul_ps(v, half), _mm512_add_ps(one, e)));
  }
}

void gelu_scalar(float* x, std::size_t n) {
  const float rsqrt2 = static_cast<float>(M_SQRT1_2);
  for (std::size_t i = 0; i < n; ++i) x[i] = x[i] * 0.5f * (1.0f + std::erf(x[i] * rsqrt2));
}

__attribute__((target("avx512f"))) float reduce_max16(__m512 v) { return _mm512_reduce_max_ps(v); }

// Fixed tree over the 16 lanes (same as gemm.cpp's).
__attribute__((target("avx512f"))) inline float reduce_add16(__m512 a) {
  const __m256 lo8 = _mm512_castps512_ps256(a);
  const __m256 hi8 = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1));
  const __m256 s8 = _mm256_add_ps(lo8, hi8);
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}

__attribute__((target("avx512f"))) void softmax_avx512(float* x, int n) {
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 vmax = ninf;
  int i = 0;
  for (; i + 16 <= n; i += 16) vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(x + i));
  const __mmask16 tail = static_cast<__mmask16>((1u << (n - i)) - 1u);
  if (i < n) vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(ninf, tail, x + i));
  const __m512 mx = _mm512_set1_ps(reduce_max16(vmax));
  __m512 vsum = _mm512_setzero_ps();
  for (i = 0; i + 16 <= n; i += 16) {
    const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), mx));
    _mm512_storeu_ps(x + i, e);
    vsum = _mm512_add_ps(vsum, e);
  }
  if (i < n) {
    const __m512 e = exp16(_mm512_sub_ps(_mm512_mask_loadu_ps(ninf, tail, x + i), mx));
    _mm512_mask_storeu_ps(x + i, tail, e);
    vsum = _mm512_add_ps(vsum, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / reduce_add16(vsum));
  for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
  if (i < n) _mm512_mask_storeu_ps(x + i, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + i), inv));
}

void softmax_scalar(float* x, int n) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

__attribute__((target("avx512f"))) double sum_exp_avx512(const float* x, std::size_t n, float shift) {
  const __m512 s = _mm512_set1_ps(shift);
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), s));
    acc0 = _mm512_add_pd(acc0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
    acc1 = _mm512_add_pd(
        acc1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_mask_loadu_ps(ninf, m, x + i), s));
    acc0 = _mm512_add_pd(acc0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
    acc1 = _mm512_add_pd(
        acc1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
  }
  alignas(64) double lanes[8];
  _mm512_store_pd(lanes, _mm512_add_pd(acc0, acc1));
  return ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
}

// ---- AVX2 + FMA math ----------------------------------------------------------------------
// The same operations as the AVX-512 versions above, 8 lanes at a time, in the same order, so
// exp8 / erf8 give the bits of exp16 / erf16 and gelu, softmax and sum_exp_shifted below give the
// AVX-512 path's bits (kernels_test compares them). vscalefps becomes two exact multiplications
// by 2^(n>>1) and 2^(n-(n>>1)) (each a normal float for n in [-126, 128]; one rounding at most).
__attribute__((target("avx2,fma"))) inline __m256 exp8(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.33654f);
  const __m256 hi = _mm256_set1_ps(88.72283f);
  const __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  x = _mm256_max_ps(_mm256_min_ps(x, hi), lo);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 r2 = _mm256_mul_ps(r, r);
  __m256 y = _mm256_fmadd_ps(p, r2, r);
  y = _mm256_add_ps(y, _mm256_set1_ps(1.0f));
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  y = _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23)));
  y = _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23)));
  return _mm256_andnot_ps(under, y);
}

__attribute__((target("avx2,fma"))) inline __m256 erf8(__m256 a) {
  const __m256 x = _mm256_max_ps(_mm256_min_ps(a, _mm256_set1_ps(4.0f)), _mm256_set1_ps(-4.0f));
  const __m256 x2 = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-2.72614225801306e-10f);
  p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(2.77068142495902e-08f));
  p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(-2.10102402082508e-06f));
  p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(-5.69250639462346e-05f));
  p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(-7.34990630326855e-04f));
  p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(-2.95459980854025e-03f));
  p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(-1.60960333262415e-02f));
  p = _mm256_mul_ps(x, p);
  __m256 q = _mm256_set1_ps(-1.45660718464996e-05f);
  q = _mm256_fmadd_ps(x2, q, _mm256_set1_ps(-2.13374055278905e-04f));
  q = _mm256_fmadd_ps(x2, q, _mm256_set1_ps(-1.68282697438203e-03f));
  q = _mm256_fmadd_ps(x2, q, _mm256_set1_ps(-7.37332916720468e-03f));
  q = _mm256_fmadd_ps(x2, q, _mm256_set1_ps(-1.42647390514189e-02f));
  return _mm256_div_ps(p, q);
}

__attribute__((target("avx2,fma"))) inline __m256 gelu8(__m256 v) {
  const __m256 e = erf8(_mm256_mul_ps(v, _mm256_set1_ps(static_cast<float>(M_SQRT1_2))));
  return _mm256_mul_ps(_mm256_mul_ps(v, _mm256_set1_ps(0.5f)),
                       _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

__attribute__((target("avx2,fma"))) void gelu_avx2(float* x, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu8(_mm256_loadu_ps(x + i)));
  if (i < n) {
    alignas(32) float buf[8] = {};
    std::memcpy(buf, x + i, sizeof(float) * (n - i));
    _mm256_store_ps(buf, gelu8(_mm256_load_ps(buf)));
    std::memcpy(x + i, buf, sizeof(float) * (n - i));
  }
}

// Copies x[i..n) (fewer than 16) into a 16-float buffer padded with -inf (as the AVX-512 path's
// masked loads do).
inline void load_tail16(const float* x, std::size_t count, float* buf) {
  for (int l = 0; l < 16; ++l) buf[l] = -std::numeric_limits<float>::infinity();
  std::memcpy(buf, x, sizeof(float) * count);
}

// Softmax in 16-element steps with two 8-lane accumulators: lane l of (lo + hi) is lane l of the
// AVX-512 path's s8, and the rest of reduce_add16's tree follows.
__attribute__((target("avx2,fma"))) void softmax_avx2(float* x, int n) {
  const __m256 ninf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  __m256 vmax = ninf;
  int i = 0;
  for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
  float mxs = -std::numeric_limits<float>::infinity();
  for (; i < n; ++i) mxs = std::max(mxs, x[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vmax);
  for (int l = 0; l < 8; ++l) mxs = std::max(mxs, lanes[l]);
  const __m256 mx = _mm256_set1_ps(mxs);
  __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
  for (i = 0; i + 16 <= n; i += 16) {
    const __m256 e0 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), mx));
    const __m256 e1 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), mx));
    _mm256_storeu_ps(x + i, e0);
    _mm256_storeu_ps(x + i + 8, e1);
    lo = _mm256_add_ps(lo, e0);
    hi = _mm256_add_ps(hi, e1);
  }
  if (i < n) {
    alignas(32) float buf[16];
    load_tail16(x + i, static_cast<std::size_t>(n - i), buf);
    const __m256 e0 = exp8(_mm256_sub_ps(_mm256_load_ps(buf), mx));
    const __m256 e1 = exp8(_mm256_sub_ps(_mm256_load_ps(buf + 8), mx));
    _mm256_store_ps(buf, e0);
    _mm256_store_ps(buf + 8, e1);
    std::memcpy(x + i, buf, sizeof(float) * static_cast<std::size_t>(n - i));
    lo = _mm256_add_ps(lo, e0);
    hi = _mm256_add_ps(hi, e1);
  }
  const __m256 s8 = _mm256_add_ps(lo, hi);
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  const float sum = _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
  const __m256 inv = _mm256_set1_ps(1.0f / sum);
  for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
  const float invs = 1.0f / sum;
  for (; i < n; ++i) x[i] *= invs;
}

// sum_exp in 16-element steps with four 4-lane double accumulators: (a0 + a2 | a1 + a3) is the
// AVX-512 path's acc0 + acc1, reduced with the same tree.
__attribute__((target("avx2,fma"))) double sum_exp_avx2(const float* x, std::size_t n, float shift) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  auto add16 = [&](const float* p) __attribute__((target("avx2,fma"))) {
    const __m256 e0 = exp8(_mm256_sub_ps(_mm256_loadu_ps(p), s));
    const __m256 e1 = exp8(_mm256_sub_ps(_mm256_loadu_ps(p + 8), s));
    a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm256_castps256_ps128(e0)));
    a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm256_extractf128_ps(e0, 1)));
    a2 = _mm256_add_pd(a2, _mm256_cvtps_pd(_mm256_castps256_ps128(e1)));
    a3 = _mm256_add_pd(a3, _mm256_cvtps_pd(_mm256_extractf128_ps(e1, 1)));
  };
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) add16(x + i);
  if (i < n) {
    alignas(32) float buf[16];
    load_tail16(x + i, n - i, buf);
    add16(buf);
  }
  alignas(32) double lanes[8];
  _mm256_store_pd(lanes, _mm256_add_pd(a0, a2));
  _mm256_store_pd(lanes + 4, _mm256_add_pd(a1, a3));
  return ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
}

// attention_one in AVX2 with the AVX-512 path's arithmetic: a key's 16 partial sums are two
// 8-lane fma chains (lanes d % 16 < 8 and >= 8), reduced with reduce_add16's tree; then the same
// softmax bits (softmax_avx2) and one fma chain over keys per output dim. REQUIRES D % 16 == 0.
__attribute__((target("avx2,fma"))) void attention_one_avx2(int pos, int D, float scale,
                                                           const float* q, const float* k,
                                                           const float* v, float* out, float* p) {
  const int L = pos + 1;
  for (int j = 0; j < L; ++j) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    const float* kj = k + static_cast<std::size_t>(j) * D;
    for (int d = 0; d < D; d += 16) {
      lo = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(kj + d), lo);
      hi = _mm256_fmadd_ps(_mm256_loadu_ps(q + d + 8), _mm256_loadu_ps(kj + d + 8), hi);
    }
    const __m256 s8 = _mm256_add_ps(lo, hi);
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    p[j] = _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1))) * scale;
  }
  softmax_avx2(p, L);
  for (int d = 0; d < D; d += 16) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    for (int jj = 0; jj < L; ++jj) {
      const __m256 pj = _mm256_broadcast_ss(p + jj);
      const float* vj = v + static_cast<std::size_t>(jj) * D + d;
      a0 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj), a0);
      a1 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 8), a1);
    }
    _mm256_storeu_ps(out + d, a0);
    _mm256_storeu_ps(out + d + 8, a1);
  }
}

// Reduces 16 accumulators (one per key) to their 16 lane sums with the same tree as
// reduce_add16 (s8[i]=a[i]+a[i+8], s4, s2, s1), so each score has the bits reduce_add16 gives it;
// the result's lane i is the sum of acc[i].
__attribute__((target("avx512f"))) inline __m512 reduce_add16x16(const __m512* acc) {
  __m512 u[8];
  for (int i = 0; i < 8; ++i) {  // [key 2i | key 2i+1], 8 lanes each: a[l] + a[l+8]
    const __m512 a = acc[2 * i], b = acc[2 * i + 1];
    u[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
  }
  __m512 v[4];
  for (int i = 0; i < 4; ++i) {  // 128-bit blocks = keys 4i .. 4i+3: s8[l] + s8[l+4]
    const __m512 a = u[2 * i], b = u[2 * i + 1];
    v[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  }
  __m512 z[2];
  for (int i = 0; i < 2; ++i) {  // block k: [key 8i+k: s4[0]+s4[2], s4[1]+s4[3] | key 8i+4+k: same]
    const __m512 a = v[2 * i], b = v[2 * i + 1];
    z[i] = _mm512_add_ps(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
  }
  // block k: [key k, key 4+k, key 8+k, key 12+k]: s2[0] + s2[1]
  const __m512 r = _mm512_add_ps(_mm512_shuffle_ps(z[0], z[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_ps(z[0], z[1], _MM_SHUFFLE(3, 1, 3, 1)));
  // lane 4k + t holds key k + 4t -> lane i must take lane 4 (i mod 4) + i / 4.
  const __m512i idx = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
  return _mm512_permutexvar_ps(idx, r);
}

// One query against keys/values 0..pos of one head (D multiple of 16 on this path). Scores:
// per key 16 lane partial sums over d (fma, d ascending), the reduce_add16 tree, * scale.
// Output: per d, fma chain over keys ascending. (tests/model/kernels_test.cpp emulates it.)
__attribute__((target("avx512f"))) void attention_one_avx512(int pos, int D, float scale,
                                                             const float* q, const float* k,
                                                             const float* v, float* out,
                                                             float* p) {
  const int L = pos + 1;
  const __m512 vscale = _mm512_set1_ps(scale);
  int j = 0;
  for (; j + 16 <= L; j += 16) {
    __m512 acc[16];
    for (int t = 0; t < 16; ++t) acc[t] = _mm512_setzero_ps();
    for (int d = 0; d < D; d += 16) {
      const __m512 qd = _mm512_loadu_ps(q + d);
      for (int t = 0; t < 16; ++t)
        acc[t] = _mm512_fmadd_ps(qd, _mm512_loadu_ps(k + static_cast<std::size_t>(j + t) * D + d), acc[t]);
    }
    _mm512_storeu_ps(p + j, _mm512_mul_ps(reduce_add16x16(acc), vscale));
  }
  for (; j < L; ++j) {
    __m512 acc = _mm512_setzero_ps();
    const float* kj = k + static_cast<std::size_t>(j) * D;
    for (int d = 0; d < D; d += 16)
      acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + d), _mm512_loadu_ps(kj + d), acc);
    p[j] = reduce_add16(acc) * scale;
  }
  softmax_avx512(p, L);
  if (D <= 128) {  // all output accumulators in registers; keys outer (same chains per d)
    __m512 o[8];
    const int nv = D / 16;
    for (int i = 0; i < nv; ++i) o[i] = _mm512_setzero_ps();
    for (int jj = 0; jj < L; ++jj) {
      const __m512 pj = _mm512_set1_ps(p[jj]);
      const float* vj = v + static_cast<std::size_t>(jj) * D;
      for (int i = 0; i < nv; ++i) o[i] = _mm512_fmadd_ps(pj, _mm512_loadu_ps(vj + 16 * i), o[i]);
    }
    for (int i = 0; i < nv; ++i) _mm512_storeu_ps(out + 16 * i, o[i]);
    return;
  }
  for (int d = 0; d < D; d += 16) {
    __m512 acc = _mm512_setzero_ps();
    for (int jj = 0; jj < L; ++jj)
      acc = _mm512_fmadd_ps(_mm512_set1_ps(p[jj]), _mm512_loadu_ps(v + static_cast<std::size_t>(jj) * D + d), acc);
    _mm512_storeu_ps(out + d, acc);
  }
}

__attribute__((target("avx512f"))) float max_range_avx512(const float* x, int begin, int end,
                                                         bool* any_nan) {
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 vmax = ninf;
  __mmask16 nan = 0;
  int i = begin;
  for (; i + 16 <= end; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    vmax = _mm512_max_ps(v, vmax);  // NaN in v -> vmax kept
  }
  if (i < end) {
    const __mmask16 m = static_cast<__mmask16>((1u << (end - i)) - 1u);
    const __m512 v = _mm512_mask_loadu_ps(ninf, m, x + i);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    vmax = _mm512_max_ps(v, vmax);
  }
  if (nan != 0) *any_nan = true;
  return _mm512_reduce_max_ps(vmax);
}

__attribute__((target("avx512f"))) int first_equal_avx512(const float* x, int begin, int end,
                                                         float value) {
  const __m512 target = _mm512_set1_ps(value);
  int i = begin;
  for (; i + 16 <= end; i += 16) {
    const __mmask16 eq = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), target, _CMP_EQ_OQ);
    if (eq != 0) return i + __builtin_ctz(eq);
  }
  for (; i < end; ++i)
    if (x[i] == value) return i;
  return -1;
}

float max_range(const float* x, int begin, int end, bool* any_nan) {
  if (begin >= end) return -std::numeric_limits<float>::infinity();
  if (have_avx512()) return max_range_avx512(x, begin, end, any_nan);
  float m = -std::numeric_limits<float>::infinity();
  for (int i = begin; i < end; ++i) {
    if (std::isnan(x[i])) {
      *any_nan = true;
    } else if (x[i] > m) {
      m = x[i];
    }
  }
  return m;
}

int first_equal_range(const float* x, int begin, int end, float value) {
  if (begin >= end) return -1;
  if (have_avx512()) return first_equal_avx512(x, begin, end, value);
  for (int i = begin; i < end; ++i)
    if (x[i] == value) return i;
  return -1;
}

// The segments of [0, n) without skip_a and skip_b, in ascending order (at most 3).
int segments(int n, int skip_a, int skip_b, int (*seg)[2]) {
  int lo = skip_a, hi = skip_b;
  if (lo > hi) std::swap(lo, hi);
  int count = 0, start = 0;
  for (const int s : {lo, hi}) {
    if (s < 0 || s >= n || s < start) continue;
    seg[count][0] = start;
    seg[count][1] = s;
    ++count;
    start = s + 1;
  }
  seg[count][0] = start;
  seg[count][1] = n;
  return count + 1;
}

}  // namespace

float max_except(const float* x, int n, int skip_a, int skip_b, bool* any_nan) {
  int seg[3][2];
  const int k = segments(n, skip_a, skip_b, seg);
  float m = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < k; ++i) m = std::max(m, max_range(x, seg[i][0], seg[i][1], any_nan));
  return m;
}

int first_equal(const float* x, int n, float value, int skip_a, int skip_b) {
  int seg[3][2];
  const int k = segments(n, skip_a, skip_b, seg);
  for (int i = 0; i < k; ++i) {
    const int at = first_equal_range(x, seg[i][0], seg[i][1], value);
    if (at >= 0) return at;
  }
  return -1;
}

void layer_norm(int T, int C, const float* x, int ldx, const float* gamma, const float* beta,
                float eps, float* y, int ldy) {
  for (int t = 0; t < T; ++t) {
    const float* xr = x + static_cast<std::size_t>(t) * ldx;
    float* yr = y + static_cast<std::size_t>(t) * ldy;
    double sum = 0.0;
    for (int c = 0; c < C; ++c) sum += xr[c];
    const double mean = sum / C;
    double sq = 0.0;
    for (int c = 0; c < C; ++c) {
      const double d = xr[c] - mean;
      sq += d * d;
    }
    const double rstd = 1.0 / std::sqrt(sq / C + static_cast<double>(eps));
    for (int c = 0; c < C; ++c) {
      const float n = static_cast<float>((xr[c] - mean) * rstd);
      yr[c] = n * gamma[c] + beta[c];
    }
  }
}

void gelu_inplace(float* x, std::size_t n) {
  if (have_avx2()) {
    gelu_avx2(x, n);
    return;
  }
  if (have_avx512()) {
    gelu_avx512(x, n);
  } else {
    gelu_scalar(x, n);
  }
}

void add_inplace(float* y, const float* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] += x[i];
}

RotaryTable::RotaryTable(int rotary_dim, double base, int max_positions)
    : rot_(rotary_dim), half_(rotary_dim / 2) {
  if (rotary_dim < 0 || rotary_dim % 2 != 0 || max_positions < 0) {
    throw std::invalid_argument("RotaryTable: rotary_dim must be even and >= 0");
  }
  // transformers 4.40.2: inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)),
  // float32 throughout (torch.pow(float scalar, float32 tensor)).
  const float fbase = static_cast<float>(base);
  inv_freq_.resize(static_cast<std::size_t>(half_));
  for (int i = 0; i < half_; ++i) {
    const float expo = static_cast<float>(2 * i) / static_cast<float>(rot_);
    inv_freq_[static_cast<std::size_t>(i)] = 1.0f / std::pow(fbase, expo);
  }
  // _set_cos_sin_cache: t = arange(seq_len).float(); freqs = outer(t, inv_freq); cos/sin in float32.
  cos_.resize(static_cast<std::size_t>(half_) * max_positions);
  sin_.resize(cos_.size());
  for (int p = 0; p < max_positions; ++p) {
    for (int i = 0; i < half_; ++i) {
      const float f = static_cast<float>(p) * inv_freq_[static_cast<std::size_t>(i)];
      cos_[static_cast<std::size_t>(p) * half_ + i] = std::cos(f);
      sin_[static_cast<std::size_t>(p) * half_ + i] = std::sin(f);
    }
  }
}

void RotaryTable::apply(float* v, int pos) const {
  const float* c = cos_row(pos);
  const float* s = sin_row(pos);
  for (int i = 0; i < half_; ++i) {
    const float x1 = v[i], x2 = v[i + half_];
    const float a1 = x1 * c[i], b1 = -x2 * s[i];
    const float a2 = x2 * c[i], b2 = x1 * s[i];
    v[i] = a1 + b1;
    v[i + half_] = a2 + b2;
  }
}

void softmax_inplace(float* x, int n) {
  if (n <= 0) return;
  if (have_avx2()) {
    softmax_avx2(x, n);
    return;
  }
  if (have_avx512()) {
    softmax_avx512(x, n);
  } else {
    softmax_scalar(x, n);
  }
}

double sum_exp_shifted(const float* x, std::size_t n, float shift) {
  if (have_avx512()) return sum_exp_avx512(x, n, shift);
  if (have_avx2()) return sum_exp_avx2(x, n, shift);
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - shift);
  return sum;
}

void attention_chunk(int nq, int q_pos0, int D, float scale, const float* q, int ldq,
                     const PanelView& keys, const PanelView& values, float* out, int ldo,
                     float* scratch) {
  if (nq <= 0) return;
  const int L = q_pos0 + nq;
  PanelView k = keys;
  k.n = L;
  // scores[i, j] = <q_i, k_j>, then * scale (HF: torch.baddbmm(zeros, q, k^T, alpha=norm_factor)).
  matmul_panels(nq, q, ldq, k, nullptr, scratch, L);
  for (int i = 0; i < nq; ++i) {
    float* row = scratch + static_cast<std::size_t>(i) * L;
    const int n_keys = q_pos0 + i + 1;  // causal: keys 0 .. own position
    for (int j = 0; j < n_keys; ++j) row[j] *= scale;
    softmax_inplace(row, n_keys);
    // Masked keys: HF fills them with finfo.min, whose exp underflows to exactly 0.
    std::memset(row + n_keys, 0, sizeof(float) * static_cast<std::size_t>(L - n_keys));
  }
  PanelView v = values;
  v.k = L;
  matmul_panels(nq, scratch, L, v, nullptr, out, ldo);
}

void attention_one(int pos, int D, float scale, const float* q, const float* k, const float* v,
                   float* out, float* scratch) {
  if (have_avx512() && D % 16 == 0) {
    attention_one_avx512(pos, D, scale, q, k, v, out, scratch);
    return;
  }
  if (have_avx2() && D % 16 == 0) {
    attention_one_avx2(pos, D, scale, q, k, v, out, scratch);
    return;
  }
  // The SIMD paths' order written out (kernels_test checks it): 16 fma partial sums by d % 16,
  // reduce_add16's tree, softmax_inplace, one fma chain over keys per output dim.
  const int L = pos + 1;
  for (int j = 0; j < L; ++j) {
    float a[16] = {};
    const float* kj = k + static_cast<std::size_t>(j) * D;
    for (int d = 0; d < D; ++d) a[d % 16] = std::fma(q[d], kj[d], a[d % 16]);
    float s8[8], s4[4];
    for (int i = 0; i < 8; ++i) s8[i] = a[i] + a[i + 8];
    for (int i = 0; i < 4; ++i) s4[i] = s8[i] + s8[i + 4];
    scratch[j] = ((s4[0] + s4[2]) + (s4[1] + s4[3])) * scale;
  }
  softmax_inplace(scratch, L);
  for (int d = 0; d < D; ++d) {
    float acc = 0.0f;
    for (int j = 0; j < L; ++j) acc = std::fma(scratch[j], v[static_cast<std::size_t>(j) * D + d], acc);
    out[d] = acc;
  }
}

}  // namespace pythia::model

#pragma GCC diagnostic pop

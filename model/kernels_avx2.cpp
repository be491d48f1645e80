// AVX2+FMA paths of the kernels (entry points declared in kernels_isa.h, dispatched from
// kernels.cpp): the AVX-512 paths' arithmetic 8 lanes at a time, so they give the same bits.
#include "model/kernels_isa.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>

namespace pythia::model::detail {
namespace {

// ---- AVX2 + FMA math ----------------------------------------------------------------------
// The same operations as the AVX-512 versions (kernels_avx512.cpp), 8 lanes at a time, in the
// same order, so exp8 / erf8 give the bits of exp16 / erf16 and gelu, softmax and sum_exp_shifted
// below give the AVX-512 path's bits (kernels_isa_test compares them). vscalefps becomes two exact
// multiplications by 2^(n>>1) and 2^(n-(n>>1)) (each a normal float for n in [-126, 128]; one
// rounding at most).
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

// Copies x[i..n) (fewer than 16) into a 16-float buffer padded with -inf (as the AVX-512 path's
// masked loads do).
inline void load_tail16(const float* x, std::size_t count, float* buf) {
  for (int l = 0; l < 16; ++l) buf[l] = -std::numeric_limits<float>::infinity();
  std::memcpy(buf, x, sizeof(float) * count);
}

}  // namespace

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

}  // namespace pythia::model::detail

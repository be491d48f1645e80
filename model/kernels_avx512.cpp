// AVX-512F paths of the kernels (entry points declared in kernels_isa.h, dispatched from
// kernels.cpp). 16 lanes; expf / erf by polynomials; fixed reduction trees that the AVX2 paths
// (kernels_avx2.cpp) and the scalar attention_one (kernels.cpp) reproduce bit for bit.
#include "model/kernels_isa.h"

// GCC 12's AVX-512 intrinsic headers use _mm*_undefined_*() and trip -Wuninitialized inside
// them (GCC bug 105593, fixed in 13); the warnings are about the headers, not our code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>
#include <cstddef>
#include <limits>

namespace pythia::model::detail {
namespace {

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

}  // namespace

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

}  // namespace pythia::model::detail

#pragma GCC diagnostic pop

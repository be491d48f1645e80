#include "model/gemm.h"

#include <cblas.h>
// GCC 12's AVX-512 intrinsic headers use _mm*_undefined_*() and trip -Wuninitialized inside
// them (GCC bug 105593, fixed in 13); the warnings are about the headers, not our code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

namespace pythia::model {
namespace {

std::once_flag g_blas_once;

void ensure_single_threaded() {
  std::call_once(g_blas_once, [] { openblas_set_num_threads(1); });
}

// ---- position-invariant dot-product kernel ----------------------------------------------------
// Contract of every dot: 16 lane accumulators, lane = k mod 16, k ascending, fma; a zero-filled
// tail; then the reduction tree  s8[i]=a[i]+a[i+8]; s4[i]=s8[i]+s8[i+4]; s2[i]=s4[i]+s4[i+2];
// s = s2[0]+s2[1];  then s + bias. The AVX-512 and the portable paths compute exactly this, so they
// agree bit for bit.

constexpr int kLanes = 16;
constexpr int kTileM = 4;
constexpr int kTileN = 4;

__attribute__((target("avx512f"))) inline float reduce16(__m512 a) {
  const __m256 lo8 = _mm512_castps512_ps256(a);
  const __m256 hi8 = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1));
  const __m256 s8 = _mm256_add_ps(lo8, hi8);
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  const __m128 s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
  return _mm_cvtss_f32(s1);
}

template <int MR, int NR>
__attribute__((target("avx512f"))) void tile_avx512(int K, const float* X, int ldx, const float* W,
                                                    int ldw, const float* bias, float* Y, int ldy) {
  __m512 acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_ps();
  int k = 0;
  for (; k + kLanes <= K; k += kLanes) {
    __m512 w[NR];
    for (int j = 0; j < NR; ++j) w[j] = _mm512_loadu_ps(W + static_cast<long>(j) * ldw + k);
    for (int i = 0; i < MR; ++i) {
      const __m512 x = _mm512_loadu_ps(X + static_cast<long>(i) * ldx + k);
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_fmadd_ps(x, w[j], acc[i][j]);
    }
  }
  if (k < K) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (K - k)) - 1u);
    __m512 w[NR];
    for (int j = 0; j < NR; ++j) w[j] = _mm512_maskz_loadu_ps(mask, W + static_cast<long>(j) * ldw + k);
    for (int i = 0; i < MR; ++i) {
      const __m512 x = _mm512_maskz_loadu_ps(mask, X + static_cast<long>(i) * ldx + k);
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_fmadd_ps(x, w[j], acc[i][j]);
    }
  }
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < NR; ++j) {
      float s = reduce16(acc[i][j]);
      if (bias != nullptr) s += bias[j];
      Y[static_cast<long>(i) * ldy + j] = s;
    }
  }
}

// Portable path: the same arithmetic, one dot at a time.
float dot_portable(int K, const float* x, const float* w) {
  float a[kLanes] = {};
  int k = 0;
  for (; k + kLanes <= K; k += kLanes)
    for (int l = 0; l < kLanes; ++l) a[l] = std::fma(x[k + l], w[k + l], a[l]);
  if (k < K) {  // zero-filled tail, as the masked loads of the AVX-512 path
    for (int l = 0; l < kLanes; ++l) {
      const bool in = k + l < K;
      a[l] = std::fma(in ? x[k + l] : 0.0f, in ? w[k + l] : 0.0f, a[l]);
    }
  }
  float s8[8], s4[4];
  for (int i = 0; i < 8; ++i) s8[i] = a[i] + a[i + 8];
  for (int i = 0; i < 4; ++i) s4[i] = s8[i] + s8[i + 4];
  const float s2a = s4[0] + s4[2], s2b = s4[1] + s4[3];
  return s2a + s2b;
}

template <int NR>
__attribute__((target("avx512f"))) void nblock_avx512(int M, int K, const float* X, int ldx,
                                                      const float* W, int ldw, const float* bias,
                                                      float* Y, int ldy) {
  int m = 0;
  for (; m + kTileM <= M; m += kTileM)
    tile_avx512<kTileM, NR>(K, X + static_cast<long>(m) * ldx, ldx, W, ldw, bias,
                            Y + static_cast<long>(m) * ldy, ldy);
  const float* Xm = X + static_cast<long>(m) * ldx;
  float* Ym = Y + static_cast<long>(m) * ldy;
  switch (M - m) {
    case 3: tile_avx512<3, NR>(K, Xm, ldx, W, ldw, bias, Ym, ldy); break;
    case 2: tile_avx512<2, NR>(K, Xm, ldx, W, ldw, bias, Ym, ldy); break;
    case 1: tile_avx512<1, NR>(K, Xm, ldx, W, ldw, bias, Ym, ldy); break;
    default: break;
  }
}

bool have_avx512() {
  static const bool ok = __builtin_cpu_supports("avx512f");
  return ok;
}

// Rows [n0, n1) of W (n0 a multiple of kTileN).
void nrange(int M, int n0, int n1, int K, const float* X, int ldx, const float* W,
            const float* bias, float* Y, int ldy) {
  if (!have_avx512()) {
    for (int n = n0; n < n1; ++n) {
      const float* w = W + static_cast<long>(n) * K;
      for (int m = 0; m < M; ++m) {
        float s = dot_portable(K, X + static_cast<long>(m) * ldx, w);
        if (bias != nullptr) s += bias[n];
        Y[static_cast<long>(m) * ldy + n] = s;
      }
    }
    return;
  }
  for (int n = n0; n < n1; n += kTileN) {
    const float* w = W + static_cast<long>(n) * K;
    const float* b = bias != nullptr ? bias + n : nullptr;
    float* y = Y + n;
    switch (n1 - n >= kTileN ? kTileN : n1 - n) {
      case 4: nblock_avx512<4>(M, K, X, ldx, w, K, b, y, ldy); break;
      case 3: nblock_avx512<3>(M, K, X, ldx, w, K, b, y, ldy); break;
      case 2: nblock_avx512<2>(M, K, X, ldx, w, K, b, y, ldy); break;
      case 1: nblock_avx512<1>(M, K, X, ldx, w, K, b, y, ldy); break;
      default: break;
    }
  }
}

}  // namespace

void use_single_threaded_blas() { ensure_single_threaded(); }

std::string blas_config() {
  std::string s = openblas_get_config();
  s += " (core ";
  s += openblas_get_corename();
  s += ", threads ";
  s += std::to_string(openblas_get_num_threads());
  s += ")";
  return s;
}

void sgemm_nt(int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
              float beta, float* C, int ldc) {
  if (M <= 0 || N <= 0) return;
  ensure_single_threaded();
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, alpha, A, lda, B, ldb, beta, C,
              ldc);
}

void sgemm_nn(int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
              float beta, float* C, int ldc) {
  if (M <= 0 || N <= 0) return;
  ensure_single_threaded();
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C,
              ldc);
}

void linear_sgemm(int M, int N, int K, const float* X, int ldx, const float* W, const float* bias,
                  float* Y, int ldy) {
  if (M <= 0 || N <= 0) return;
  float beta = 0.0f;
  if (bias != nullptr) {
    for (int m = 0; m < M; ++m)
      std::memcpy(Y + static_cast<long>(m) * ldy, bias, sizeof(float) * static_cast<size_t>(N));
    beta = 1.0f;
  }
  sgemm_nt(M, N, K, 1.0f, X, ldx, W, K, beta, Y, ldy);
}

void matmul_rows_invariant(int M, int N, int K, const float* X, int ldx, const float* W,
                           const float* bias, float* Y, int ldy) {
  if (M <= 0 || N <= 0) return;
  // Blocks of 64 weight rows per task: enough work per task, many tasks for balance. The split
  // does not change any value (each element is computed entirely inside one task).
  constexpr int kRowsPerTask = 64;
  const int n_tasks = (N + kRowsPerTask - 1) / kRowsPerTask;
  const double work = static_cast<double>(M) * N * K;
  if (work < 1e6 || n_tasks == 1) {
    nrange(M, 0, N, K, X, ldx, W, bias, Y, ldy);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int>(0, n_tasks), [&](const tbb::blocked_range<int>& r) {
    const int n0 = r.begin() * kRowsPerTask;
    const int n1 = std::min(N, r.end() * kRowsPerTask);
    nrange(M, n0, n1, K, X, ldx, W, bias, Y, ldy);
  });
}

}  // namespace pythia::model

#pragma GCC diagnostic pop

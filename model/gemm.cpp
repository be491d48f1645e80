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
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "model/cpu_features.h"
#include "model/float16.h"

namespace pythia::model {
namespace {

std::once_flag g_blas_once;

void ensure_single_threaded() {
  std::call_once(g_blas_once, [] { openblas_set_num_threads(1); });
}

// ---- packed, position-invariant kernel ----------------------------------------------------
// Every output element: acc = 0; acc = fma(x[k], w[k], acc) for k ascending; y = acc + bias.
// The AVX-512 tile keeps 6 rows x 64 columns (24 zmm) of accumulators; the portable path does
// the same arithmetic one element at a time (std::fma == vfmadd231ps), so both agree bit for bit;
// the AVX2 tile (6 rows x 16 columns, below) too.

constexpr int kPanel = PackedWeight::kPanel;
constexpr int kTileRows = 6;
constexpr int kRowBlock = 96;     // rows per task (multiple of kTileRows): X block stays in L2
constexpr int kPanelGroup = 4;    // panels per task

// Weight loads: 16 (AVX-512) or 8 (AVX2) consecutive panel elements widened to fp32. fp16 ->
// fp32 by vcvtph2ps (exact), bf16 -> fp32 by zero-extending to 32 bits and shifting left 16
// (exact: bf16 is the upper half of a float32). The fp32 panel path is the plain load it was.
template <PanelDType T>
__attribute__((target("avx512f"), always_inline)) inline __m512 load_w16(const void* P,
                                                                        std::size_t i) {
  if constexpr (T == PanelDType::kF32) {
    return _mm512_loadu_ps(static_cast<const float*>(P) + i);
  } else {
    const __m256i h =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const std::uint16_t*>(P) + i));
    if constexpr (T == PanelDType::kF16) return _mm512_cvtph_ps(h);
    else return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
}

template <PanelDType T>
__attribute__((target("avx2,fma,f16c"), always_inline)) inline __m256 load_w8(const void* P,
                                                                             std::size_t i) {
  if constexpr (T == PanelDType::kF32) {
    return _mm256_loadu_ps(static_cast<const float*>(P) + i);
  } else {
    const __m128i h =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const std::uint16_t*>(P) + i));
    if constexpr (T == PanelDType::kF16) return _mm256_cvtph_ps(h);
    else return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
}

// P: the panel's first element (of type T); row k of the panel starts at element k * kPanel.
template <int MR, PanelDType T>
__attribute__((target("avx512f"))) void tile_packed(int K, const float* X, int ldx,
                                                    const void* P, const float* bias, float* Y,
                                                    int ldy, int ncols) {
  __m512 acc[MR][4];
  for (int m = 0; m < MR; ++m)
    for (int v = 0; v < 4; ++v) acc[m][v] = _mm512_setzero_ps();
  for (int k = 0; k < K; ++k) {
    const std::size_t p = static_cast<std::size_t>(k) * kPanel;
    const __m512 w0 = load_w16<T>(P, p), w1 = load_w16<T>(P, p + 16);
    const __m512 w2 = load_w16<T>(P, p + 32), w3 = load_w16<T>(P, p + 48);
    for (int m = 0; m < MR; ++m) {
      const __m512 x = _mm512_set1_ps(X[static_cast<std::size_t>(m) * ldx + k]);
      acc[m][0] = _mm512_fmadd_ps(x, w0, acc[m][0]);
      acc[m][1] = _mm512_fmadd_ps(x, w1, acc[m][1]);
      acc[m][2] = _mm512_fmadd_ps(x, w2, acc[m][2]);
      acc[m][3] = _mm512_fmadd_ps(x, w3, acc[m][3]);
    }
  }
  for (int v = 0; v < 4; ++v) {
    const int c0 = v * 16;
    if (c0 >= ncols) break;
    const __mmask16 mask =
        ncols - c0 >= 16 ? static_cast<__mmask16>(0xFFFF)
                         : static_cast<__mmask16>((1u << (ncols - c0)) - 1u);
    const __m512 b = bias != nullptr ? _mm512_maskz_loadu_ps(mask, bias + c0) : _mm512_setzero_ps();
    for (int m = 0; m < MR; ++m) {
      __m512 r = acc[m][v];
      if (bias != nullptr) r = _mm512_add_ps(r, b);
      _mm512_mask_storeu_ps(Y + static_cast<std::size_t>(m) * ldy + c0, mask, r);
    }
  }
}

// Start of panel p of W, `offset` elements in.
inline const void* panel_at(const PanelView& W, int p, std::size_t offset) {
  const std::size_t e = static_cast<std::size_t>(p) * W.panel_stride + offset;
  return static_cast<const std::byte*>(W.data) + e * panel_dtype_size(W.dtype);
}

template <PanelDType T>
__attribute__((target("avx512f"))) void block_avx512(int m0, int m1, int p0, int p1, const float* X,
                                                     int ldx, const PanelView& W,
                                                     const float* bias, float* Y, int ldy) {
  const int K = W.k;
  for (int p = p0; p < p1; ++p) {
    const void* P = panel_at(W, p, 0);
    const int c0 = p * kPanel;
    const int ncols = std::min(kPanel, W.n - c0);
    const float* b = bias != nullptr ? bias + c0 : nullptr;
    int m = m0;
    for (; m + kTileRows <= m1; m += kTileRows)
      tile_packed<kTileRows, T>(K, X + static_cast<std::size_t>(m) * ldx, ldx, P, b,
                                Y + static_cast<std::size_t>(m) * ldy + c0, ldy, ncols);
    const float* Xm = X + static_cast<std::size_t>(m) * ldx;
    float* Ym = Y + static_cast<std::size_t>(m) * ldy + c0;
    switch (m1 - m) {
      case 5: tile_packed<5, T>(K, Xm, ldx, P, b, Ym, ldy, ncols); break;
      case 4: tile_packed<4, T>(K, Xm, ldx, P, b, Ym, ldy, ncols); break;
      case 3: tile_packed<3, T>(K, Xm, ldx, P, b, Ym, ldy, ncols); break;
      case 2: tile_packed<2, T>(K, Xm, ldx, P, b, Ym, ldy, ncols); break;
      case 1: tile_packed<1, T>(K, Xm, ldx, P, b, Ym, ldy, ncols); break;
      default: break;
    }
  }
}

// AVX2 + FMA: 6 rows x 16 columns (12 ymm accumulators + 2 weight vectors + 1 broadcast) per
// tile, walking the 64-column panel in 16-column strips. Same fma chain per element as above.
template <int MR, PanelDType T>
__attribute__((target("avx2,fma,f16c"))) void tile_packed_avx2(int K, const float* X, int ldx,
                                                               const void* P, const float* bias,
                                                               float* Y, int ldy, int ncols) {
  __m256 acc[MR][2];
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) acc[m][0] = acc[m][1] = _mm256_setzero_ps();
  for (int k = 0; k < K; ++k) {
    const std::size_t p = static_cast<std::size_t>(k) * kPanel;
    const __m256 w0 = load_w8<T>(P, p), w1 = load_w8<T>(P, p + 8);
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) {
      const __m256 x = _mm256_broadcast_ss(X + static_cast<std::size_t>(m) * ldx + k);
      acc[m][0] = _mm256_fmadd_ps(x, w0, acc[m][0]);
      acc[m][1] = _mm256_fmadd_ps(x, w1, acc[m][1]);
    }
  }
  // Epilogue fully unrolled over m (a runtime-indexed acc[m] would push the accumulators to the
  // stack inside the k loop). The tail strip (ncols < 16) uses masked loads/stores, so nothing
  // past ncols is read from bias or written to Y.
  if (ncols >= 16) {
    __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
    if (bias != nullptr) b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) {
      __m256 r0 = acc[m][0], r1 = acc[m][1];
      if (bias != nullptr) r0 = _mm256_add_ps(r0, b0), r1 = _mm256_add_ps(r1, b1);
      float* y = Y + static_cast<std::size_t>(m) * ldy;
      _mm256_storeu_ps(y, r0);
      _mm256_storeu_ps(y + 8, r1);
    }
    return;
  }
  const __m256i n = _mm256_set1_epi32(ncols);
  const __m256i mask0 = _mm256_cmpgt_epi32(n, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256i mask1 = _mm256_cmpgt_epi32(n, _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15));
  __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
  if (bias != nullptr) b0 = _mm256_maskload_ps(bias, mask0), b1 = _mm256_maskload_ps(bias + 8, mask1);
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) {
    __m256 r0 = acc[m][0], r1 = acc[m][1];
    if (bias != nullptr) r0 = _mm256_add_ps(r0, b0), r1 = _mm256_add_ps(r1, b1);
    float* y = Y + static_cast<std::size_t>(m) * ldy;
    _mm256_maskstore_ps(y, mask0, r0);
    _mm256_maskstore_ps(y + 8, mask1, r1);
  }
}

template <PanelDType T>
__attribute__((target("avx2,fma,f16c"))) void block_avx2(int m0, int m1, int p0, int p1,
                                                         const float* X, int ldx,
                                                         const PanelView& W, const float* bias,
                                                         float* Y, int ldy) {
  constexpr int kStrip = 16;
  const int K = W.k;
  for (int p = p0; p < p1; ++p) {
    const int c0 = p * kPanel;
    const int ncols = std::min(kPanel, W.n - c0);
    for (int s = 0; s < ncols; s += kStrip) {
      const void* P = panel_at(W, p, static_cast<std::size_t>(s));
      const int nc = std::min(kStrip, ncols - s);
      const float* b = bias != nullptr ? bias + c0 + s : nullptr;
      int m = m0;
      for (; m + kTileRows <= m1; m += kTileRows)
        tile_packed_avx2<kTileRows, T>(K, X + static_cast<std::size_t>(m) * ldx, ldx, P, b,
                                       Y + static_cast<std::size_t>(m) * ldy + c0 + s, ldy, nc);
      const float* Xm = X + static_cast<std::size_t>(m) * ldx;
      float* Ym = Y + static_cast<std::size_t>(m) * ldy + c0 + s;
      switch (m1 - m) {
        case 5: tile_packed_avx2<5, T>(K, Xm, ldx, P, b, Ym, ldy, nc); break;
        case 4: tile_packed_avx2<4, T>(K, Xm, ldx, P, b, Ym, ldy, nc); break;
        case 3: tile_packed_avx2<3, T>(K, Xm, ldx, P, b, Ym, ldy, nc); break;
        case 2: tile_packed_avx2<2, T>(K, Xm, ldx, P, b, Ym, ldy, nc); break;
        case 1: tile_packed_avx2<1, T>(K, Xm, ldx, P, b, Ym, ldy, nc); break;
        default: break;
      }
    }
  }
}

// Portable: the fma chain element by element. Half panels are first widened (float16.h, exact)
// into a per-call fp32 copy of one panel, so the arithmetic is the fp32 path's.
void block_portable(int m0, int m1, int p0, int p1, const float* X, int ldx,
                    const PanelView& W, const float* bias, float* Y, int ldy) {
  const int K = W.k;
  std::vector<float> widened;
  if (W.dtype != PanelDType::kF32) widened.resize(static_cast<std::size_t>(K) * kPanel);
  for (int p = p0; p < p1; ++p) {
    const float* P = nullptr;
    if (W.dtype == PanelDType::kF32) {
      P = static_cast<const float*>(panel_at(W, p, 0));
    } else {
      const auto* h = static_cast<const std::uint16_t*>(panel_at(W, p, 0));
      const bool bf16 = W.dtype == PanelDType::kBF16;
      for (std::size_t i = 0; i < widened.size(); ++i)
        widened[i] = bf16 ? bf16_to_f32(h[i]) : f16_to_f32(h[i]);
      P = widened.data();
    }
    const int c0 = p * kPanel;
    const int ncols = std::min(kPanel, W.n - c0);
    for (int m = m0; m < m1; ++m) {
      for (int c = 0; c < ncols; ++c) {
        float acc = 0.0f;
        for (int k = 0; k < K; ++k)
          acc = std::fma(X[static_cast<std::size_t>(m) * ldx + k], P[static_cast<std::size_t>(k) * kPanel + c], acc);
        if (bias != nullptr) acc = acc + bias[c0 + c];
        Y[static_cast<std::size_t>(m) * ldy + c0 + c] = acc;
      }
    }
  }
}

bool cpu_has(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kAvx512: return __builtin_cpu_supports("avx512f");
    case GemmIsa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c_bit();
    case GemmIsa::kPortable: return true;
  }
  return false;
}

GemmIsa best_isa() {
  if (cpu_has(GemmIsa::kAvx512)) return GemmIsa::kAvx512;
  if (cpu_has(GemmIsa::kAvx2)) return GemmIsa::kAvx2;
  return GemmIsa::kPortable;
}

// Initial choice: PYTHIA_GEMM_ISA (avx512|avx2|portable) if set and supported, else the best.
GemmIsa initial_isa() {
  return isa_from_env<GemmIsa>("PYTHIA_GEMM_ISA", "avx512, avx2 or portable", parse_gemm_isa,
                               [](GemmIsa i) { return cpu_has(i); }, best_isa);
}

std::atomic<GemmIsa>& isa_slot() {
  static std::atomic<GemmIsa> slot{initial_isa()};
  return slot;
}

template <PanelDType T>
void run_block_typed(GemmIsa isa, int m0, int m1, int p0, int p1, const float* X, int ldx,
                     const PanelView& W, const float* bias, float* Y, int ldy) {
  switch (isa) {
    case GemmIsa::kAvx512: block_avx512<T>(m0, m1, p0, p1, X, ldx, W, bias, Y, ldy); break;
    case GemmIsa::kAvx2: block_avx2<T>(m0, m1, p0, p1, X, ldx, W, bias, Y, ldy); break;
    case GemmIsa::kPortable: block_portable(m0, m1, p0, p1, X, ldx, W, bias, Y, ldy); break;
  }
}

void run_block(int m0, int m1, int p0, int p1, const float* X, int ldx, const PanelView& W,
               const float* bias, float* Y, int ldy) {
  const GemmIsa isa = isa_slot().load(std::memory_order_relaxed);
  switch (W.dtype) {
    case PanelDType::kF32:
      run_block_typed<PanelDType::kF32>(isa, m0, m1, p0, p1, X, ldx, W, bias, Y, ldy);
      break;
    case PanelDType::kF16:
      run_block_typed<PanelDType::kF16>(isa, m0, m1, p0, p1, X, ldx, W, bias, Y, ldy);
      break;
    case PanelDType::kBF16:
      run_block_typed<PanelDType::kBF16>(isa, m0, m1, p0, p1, X, ldx, W, bias, Y, ldy);
      break;
  }
}

// Packs panels [p0, p1) of the [N, K] operand whose packed row n is source row
// (row_map.empty() ? n : row_map[n]) of W (row stride K elements), elements of E copied
// unchanged (memcpy: W may be unaligned), zero past N. Blocked by one cache line of each source
// row (kBlock elements): the 64 rows of a panel sit at a large power-of-two-ish stride, so
// reading them one element at a time would make every load miss L1 (all rows in the same sets);
// a block copies each row's line once into a small buffer, then writes it transposed.
template <typename E>
void pack_rows(const std::byte* W, int N, int K, std::span<const int> row_map, std::byte* out,
               int p0, int p1) {
  constexpr int kBlock = static_cast<int>(64 / sizeof(E));
  tbb::parallel_for(p0, p1, [&](int p) {
    E* P = reinterpret_cast<E*>(out) + static_cast<std::size_t>(p) * K * kPanel;
    const int c0 = p * kPanel, nc = std::min(kPanel, N - c0);
    const std::byte* rows[kPanel];
    for (int c = 0; c < nc; ++c) {
      const int r = row_map.empty() ? c0 + c : row_map[static_cast<std::size_t>(c0 + c)];
      rows[c] = W + static_cast<std::size_t>(r) * K * sizeof(E);
    }
    alignas(64) E block[kPanel][kBlock];
    for (int c = nc; c < kPanel; ++c)
      for (int j = 0; j < kBlock; ++j) block[c][j] = E{};
    for (int k0 = 0; k0 < K; k0 += kBlock) {
      const int kb = std::min(kBlock, K - k0);
      for (int c = 0; c < nc; ++c)
        std::memcpy(block[c], rows[c] + static_cast<std::size_t>(k0) * sizeof(E), static_cast<std::size_t>(kb) * sizeof(E));
      for (int j = 0; j < kb; ++j) {
        E* dst = P + static_cast<std::size_t>(k0 + j) * kPanel;
        for (int c = 0; c < kPanel; ++c) dst[c] = block[c][j];
      }
    }
  });
}

}  // namespace

std::size_t panel_dtype_size(PanelDType t) { return t == PanelDType::kF32 ? 4 : 2; }

const char* panel_dtype_name(PanelDType t) {
  switch (t) {
    case PanelDType::kF32: return "F32";
    case PanelDType::kF16: return "F16";
    case PanelDType::kBF16: return "BF16";
  }
  return "?";
}

bool parse_gemm_isa(const std::string& name, GemmIsa* out) {
  if (name == "avx512") *out = GemmIsa::kAvx512;
  else if (name == "avx2") *out = GemmIsa::kAvx2;
  else if (name == "portable") *out = GemmIsa::kPortable;
  else return false;
  return true;
}

const char* gemm_isa_name(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kAvx512: return "avx512";
    case GemmIsa::kAvx2: return "avx2";
    case GemmIsa::kPortable: return "portable";
  }
  return "?";
}

bool gemm_isa_supported(GemmIsa isa) { return cpu_has(isa); }

GemmIsa gemm_isa() { return isa_slot().load(std::memory_order_relaxed); }

bool set_gemm_isa_for_testing(GemmIsa isa) {
  if (!cpu_has(isa)) return false;
  isa_slot().store(isa, std::memory_order_relaxed);
  return true;
}

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

void pack_panels(const float* W, int ldw, int N, int K, float* out) {
  const int n_panels = (N + kPanel - 1) / kPanel;
  for (int p = 0; p < n_panels; ++p) {
    float* P = out + static_cast<std::size_t>(p) * K * kPanel;
    for (int k = 0; k < K; ++k) {
      for (int c = 0; c < kPanel; ++c) {
        const int row = p * kPanel + c;
        P[static_cast<std::size_t>(k) * kPanel + c] =
            row < N ? W[static_cast<std::size_t>(row) * ldw + k] : 0.0f;
      }
    }
  }
}

void pack_panels_transposed(const float* A, int lda, int K, int N, float* out) {
  const int n_panels = (N + kPanel - 1) / kPanel;
  for (int p = 0; p < n_panels; ++p) {
    float* P = out + static_cast<std::size_t>(p) * K * kPanel;
    const int c0 = p * kPanel, nc = std::min(kPanel, N - c0);
    for (int k = 0; k < K; ++k) {
      float* dst = P + static_cast<std::size_t>(k) * kPanel;
      std::memcpy(dst, A + static_cast<std::size_t>(k) * lda + c0, sizeof(float) * static_cast<std::size_t>(nc));
      for (int c = nc; c < kPanel; ++c) dst[c] = 0.0f;
    }
  }
}

void matmul_panels(int M, const float* X, int ldx, const PanelView& W, const float* bias,
                   float* Y, int ldy) {
  if (M <= 0 || W.n <= 0) return;
  run_block(0, M, 0, (W.n + kPanel - 1) / kPanel, X, ldx, W, bias, Y, ldy);
}

void PackedWeight::Free::operator()(std::byte* p) const { std::free(p); }

void PackedWeight::allocate() {
  const std::size_t bytes = std::max<std::size_t>(64, (this->bytes() + 63) / 64 * 64);
  data_.reset(static_cast<std::byte*>(std::aligned_alloc(64, bytes)));
  if (!data_) throw std::bad_alloc();
}

PackedWeight::PackedWeight(const float* W, int N, int K) : n_(N), k_(K) {
  allocate();
  pack_panels(W, K, N, K, reinterpret_cast<float*>(data_.get()));
}

PackedWeight::PackedWeight(PanelDType dtype, const void* W, int N, int K,
                           std::span<const int> row_map, const std::function<void(int)>& on_rows_read)
    : dtype_(dtype), n_(N), k_(K) {
  if (!row_map.empty()) {
    if (row_map.size() != static_cast<std::size_t>(N))
      throw std::invalid_argument("PackedWeight: row_map size differs from N");
    for (const int r : row_map)
      if (r < 0 || r >= N) throw std::invalid_argument("PackedWeight: row_map entry out of range");
  }
  allocate();
  const auto* src = static_cast<const std::byte*>(W);
  // Chunks of panels packed in parallel; without a row map, chunk c reads source rows
  // [c0 * 64, c1 * 64) only, so their pages can go once it is done.
  constexpr int kChunkPanels = 16;
  const int np = n_panels();
  for (int p0 = 0; p0 < np; p0 += kChunkPanels) {
    const int p1 = std::min(np, p0 + kChunkPanels);
    if (dtype == PanelDType::kF32) pack_rows<std::uint32_t>(src, N, K, row_map, data_.get(), p0, p1);
    else pack_rows<std::uint16_t>(src, N, K, row_map, data_.get(), p0, p1);
    if (on_rows_read && row_map.empty()) on_rows_read(std::min(N, p1 * kPanel));
  }
  if (on_rows_read && (!row_map.empty() || np == 0)) on_rows_read(N);
}

float PackedWeight::at(int n, int k) const {
  const std::size_t i = static_cast<std::size_t>(n / kPanel) * k_ * kPanel +
                        static_cast<std::size_t>(k) * kPanel + n % kPanel;
  switch (dtype_) {
    case PanelDType::kF32: return reinterpret_cast<const float*>(data_.get())[i];
    case PanelDType::kF16: return f16_to_f32(reinterpret_cast<const std::uint16_t*>(data_.get())[i]);
    case PanelDType::kBF16: return bf16_to_f32(reinterpret_cast<const std::uint16_t*>(data_.get())[i]);
  }
  return 0.0f;
}

void matmul_packed_portable(int M, const float* X, int ldx, const PackedWeight& W,
                            const float* bias, float* Y, int ldy) {
  if (M <= 0 || W.n() <= 0) return;
  block_portable(0, M, 0, W.n_panels(), X, ldx, W.view(), bias, Y, ldy);
}

void matmul_packed(int M, const float* X, int ldx, const PackedWeight& W, const float* bias,
                   float* Y, int ldy) {
  if (M <= 0 || W.n() <= 0) return;
  const int n_panels = W.n_panels();
  const double work = 2.0 * M * W.n() * W.k();
  if (work < 4e6) {
    run_block(0, M, 0, n_panels, X, ldx, W.view(), bias, Y, ldy);
    return;
  }
  // Tasks: (row block, panel group); adjacent tasks share a panel group (shared L3 reads). The
  // split changes no value (position-invariant kernel).
  const PanelView view = W.view();
  const int n_row_blocks = (M + kRowBlock - 1) / kRowBlock;
  const int n_groups = (n_panels + kPanelGroup - 1) / kPanelGroup;
  tbb::parallel_for(tbb::blocked_range<int>(0, n_row_blocks * n_groups, 1),
                    [&](const tbb::blocked_range<int>& r) {
                      for (int t = r.begin(); t < r.end(); ++t) {
                        const int g = t / n_row_blocks, rb = t % n_row_blocks;
                        run_block(rb * kRowBlock, std::min(M, (rb + 1) * kRowBlock),
                                  g * kPanelGroup, std::min(n_panels, (g + 1) * kPanelGroup), X,
                                  ldx, view, bias, Y, ldy);
                      }
                    });
}

}  // namespace pythia::model

#pragma GCC diagnostic pop

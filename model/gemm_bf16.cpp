#include "model/gemm_bf16.h"

// GCC 12's AVX-512 intrinsic headers trip -Wuninitialized inside them (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <vector>

#include "model/cpu_features.h"
#include "model/float16.h"

namespace pythia::model {
namespace {

constexpr int kPanel = Bf16Weight::kPanel;
constexpr int kPairRow = 2 * kPanel;  // uint16 elements per pair row of a panel
constexpr int kTileRows = 6;
constexpr int kRowBlock = 96;   // rows per task (multiple of kTileRows)
constexpr int kPanelGroup = 4;  // panels per task

// A subnormal becomes a zero of its sign (DAZ on inputs, FTZ on results).
inline float flush(float v) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(v);
  return (u & 0x7f800000u) == 0 ? std::bit_cast<float>(u & 0x80000000u) : v;
}

inline float widen(std::uint16_t h) { return flush(bf16_to_f32(h)); }

// ---- AVX512_BF16 ---------------------------------------------------------------------------
// X2: the activation rows as bf16 pairs (uint32 per pair, low half = even element), row stride
// ldx2 pairs. P: the panel's first pair row. Tile: MR rows x 64 columns, 4 zmm per row.
template <int MR>
__attribute__((target("avx512f,avx512bf16"))) void tile_bf16(int K2, const std::uint32_t* X2,
                                                             int ldx2, const std::uint16_t* P,
                                                             const float* bias, float* Y, int ldy,
                                                             int ncols) {
  __m512 acc[MR][4];
  for (int m = 0; m < MR; ++m)
    for (int v = 0; v < 4; ++v) acc[m][v] = _mm512_setzero_ps();
  for (int i = 0; i < K2; ++i) {
    const std::uint16_t* w = P + static_cast<std::size_t>(i) * kPairRow;
    const __m512bh w0 = (__m512bh)_mm512_loadu_si512(w);
    const __m512bh w1 = (__m512bh)_mm512_loadu_si512(w + 32);
    const __m512bh w2 = (__m512bh)_mm512_loadu_si512(w + 64);
    const __m512bh w3 = (__m512bh)_mm512_loadu_si512(w + 96);
    for (int m = 0; m < MR; ++m) {
      const __m512bh x = (__m512bh)_mm512_set1_epi32(
          static_cast<int>(X2[static_cast<std::size_t>(m) * ldx2 + i]));
      acc[m][0] = _mm512_dpbf16_ps(acc[m][0], x, w0);
      acc[m][1] = _mm512_dpbf16_ps(acc[m][1], x, w1);
      acc[m][2] = _mm512_dpbf16_ps(acc[m][2], x, w2);
      acc[m][3] = _mm512_dpbf16_ps(acc[m][3], x, w3);
    }
  }
  for (int v = 0; v < 4; ++v) {
    const int c0 = v * 16;
    if (c0 >= ncols) break;
    const __mmask16 mask = ncols - c0 >= 16 ? static_cast<__mmask16>(0xFFFF)
                                            : static_cast<__mmask16>((1u << (ncols - c0)) - 1u);
    const __m512 b = bias != nullptr ? _mm512_maskz_loadu_ps(mask, bias + c0) : _mm512_setzero_ps();
    for (int m = 0; m < MR; ++m) {
      __m512 r = acc[m][v];
      if (bias != nullptr) r = _mm512_add_ps(r, b);
      _mm512_mask_storeu_ps(Y + static_cast<std::size_t>(m) * ldy + c0, mask, r);
    }
  }
}

struct Operands {
  const std::uint32_t* X2;  // [M][ldx2] bf16 pairs
  int ldx2;
  const Bf16Weight* W;
  const float* bias;
  float* Y;
  int ldy;
};

__attribute__((target("avx512f,avx512bf16"))) void block_avx512bf16(int m0, int m1, int p0, int p1,
                                                                    const Operands& o) {
  const Bf16Weight& W = *o.W;
  const int K2 = W.k_pairs();
  for (int p = p0; p < p1; ++p) {
    const std::uint16_t* P = W.data() + static_cast<std::size_t>(p) * W.panel_elems();
    const int c0 = p * kPanel, ncols = std::min(kPanel, W.n() - c0);
    const float* b = o.bias != nullptr ? o.bias + c0 : nullptr;
    int m = m0;
    auto x = [&](int row) { return o.X2 + static_cast<std::size_t>(row) * o.ldx2; };
    auto y = [&](int row) { return o.Y + static_cast<std::size_t>(row) * o.ldy + c0; };
    for (; m + kTileRows <= m1; m += kTileRows)
      tile_bf16<kTileRows>(K2, x(m), o.ldx2, P, b, y(m), o.ldy, ncols);
    switch (m1 - m) {
      case 5: tile_bf16<5>(K2, x(m), o.ldx2, P, b, y(m), o.ldy, ncols); break;
      case 4: tile_bf16<4>(K2, x(m), o.ldx2, P, b, y(m), o.ldy, ncols); break;
      case 3: tile_bf16<3>(K2, x(m), o.ldx2, P, b, y(m), o.ldy, ncols); break;
      case 2: tile_bf16<2>(K2, x(m), o.ldx2, P, b, y(m), o.ldy, ncols); break;
      case 1: tile_bf16<1>(K2, x(m), o.ldx2, P, b, y(m), o.ldy, ncols); break;
      default: break;
    }
  }
}

// X[M][K] (row stride ldx) rounded to bf16 pairs X2[M][K2] (K2 = ceil(K/2); an odd K pairs its
// last element with +0). A pair row is the bf16 elements in order (low half = even element), so
// this is vcvtneps2bf16 on 16 elements at a time, the tail through a masked load (masked-off
// lanes load +0.0, whose bf16 is 0). The instruction equals f32_to_bf16_daz bit for bit (NaN
// payloads aside; tests/model/gemm_bf16_test.cpp), so both ISAs give the same pairs.
__attribute__((target("avx512f,avx512bf16"))) void round_rows_avx512bf16(int M, const float* X,
                                                                         int ldx, int K,
                                                                         std::uint32_t* X2) {
  const int K2 = (K + 1) / 2;
  for (int m = 0; m < M; ++m) {
    const float* x = X + static_cast<std::size_t>(m) * ldx;
    auto* d = reinterpret_cast<std::uint16_t*>(X2 + static_cast<std::size_t>(m) * K2);
    int k = 0;
    for (; k + 16 <= K; k += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + k),
                          (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x + k)));
    if (k < 2 * K2) {  // tail: K - k elements, plus the zero partner of an odd K
      const __mmask16 load = static_cast<__mmask16>((1u << (K - k)) - 1u);
      alignas(32) std::uint16_t t[16];
      _mm256_store_si256(reinterpret_cast<__m256i*>(t),
                         (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(load, x + k)));
      std::memcpy(d + k, t, sizeof(std::uint16_t) * static_cast<std::size_t>(2 * K2 - k));
    }
  }
}

void round_rows_portable(int M, const float* X, int ldx, int K, std::uint32_t* X2) {
  const int K2 = (K + 1) / 2;
  for (int m = 0; m < M; ++m) {
    const float* x = X + static_cast<std::size_t>(m) * ldx;
    std::uint32_t* d = X2 + static_cast<std::size_t>(m) * K2;
    for (int i = 0; i < K2; ++i) {
      const std::uint32_t lo = f32_to_bf16_daz(x[2 * i]);
      const std::uint32_t hi = 2 * i + 1 < K ? f32_to_bf16_daz(x[2 * i + 1]) : 0u;
      d[i] = lo | (hi << 16);
    }
  }
}

// ---- portable: the definition, element by element ------------------------------------------
void block_portable(int m0, int m1, int p0, int p1, const Operands& o) {
  const Bf16Weight& W = *o.W;
  const int K2 = W.k_pairs();
  for (int p = p0; p < p1; ++p) {
    const std::uint16_t* P = W.data() + static_cast<std::size_t>(p) * W.panel_elems();
    const int c0 = p * kPanel, ncols = std::min(kPanel, W.n() - c0);
    for (int m = m0; m < m1; ++m) {
      const std::uint32_t* x = o.X2 + static_cast<std::size_t>(m) * o.ldx2;
      for (int c = 0; c < ncols; ++c) {
        float acc = 0.0f;
        for (int i = 0; i < K2; ++i) {
          const std::uint16_t* w = P + static_cast<std::size_t>(i) * kPairRow + 2 * c;
          acc = bf16_dot_pair_reference(acc, static_cast<std::uint16_t>(x[i] & 0xffffu),
                                        static_cast<std::uint16_t>(x[i] >> 16), w[0], w[1]);
        }
        if (o.bias != nullptr) acc = acc + o.bias[c0 + c];
        o.Y[static_cast<std::size_t>(m) * o.ldy + c0 + c] = acc;
      }
    }
  }
}

// ---- dispatch -------------------------------------------------------------------------------
bool cpu_has(Bf16Isa isa) {
  switch (isa) {
    case Bf16Isa::kAvx512Bf16:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
    case Bf16Isa::kPortable: return true;
  }
  return false;
}

// THE dispatch point. An AMX path (amx_tile + amx_bf16, with the OS permission from
// arch_prctl(ARCH_REQ_XCOMP_PERM)) would be tried first here; none is shipped (see header).
Bf16Isa initial_isa() {
  return isa_from_env<Bf16Isa>(
      "PYTHIA_BF16_ISA", "avx512bf16 or portable", parse_bf16_isa,
      [](Bf16Isa i) { return cpu_has(i); },
      [] { return cpu_has(Bf16Isa::kAvx512Bf16) ? Bf16Isa::kAvx512Bf16 : Bf16Isa::kPortable; });
}

std::atomic<Bf16Isa>& isa_slot() {
  static std::atomic<Bf16Isa> slot{initial_isa()};
  return slot;
}

void run_block(int m0, int m1, int p0, int p1, const Operands& o) {
  switch (isa_slot().load(std::memory_order_relaxed)) {
    case Bf16Isa::kAvx512Bf16: block_avx512bf16(m0, m1, p0, p1, o); break;
    case Bf16Isa::kPortable: block_portable(m0, m1, p0, p1, o); break;
  }
}

}  // namespace

std::uint16_t f32_to_bf16_daz(float f) { return f32_to_bf16(flush(f)); }

float bf16_dot_pair_reference(float acc, std::uint16_t x_even, std::uint16_t x_odd,
                              std::uint16_t w_even, std::uint16_t w_odd) {
  acc = flush(std::fma(widen(x_odd), widen(w_odd), flush(acc)));
  return flush(std::fma(widen(x_even), widen(w_even), acc));
}

void Bf16Weight::Free::operator()(std::uint16_t* p) const { std::free(p); }

Bf16Weight::Bf16Weight(const PackedWeight& w) : n_(w.n()), k_(w.k()) {
  const std::size_t bytes = std::max<std::size_t>(64, (this->bytes() + 63) / 64 * 64);
  data_.reset(static_cast<std::uint16_t*>(std::aligned_alloc(64, bytes)));
  if (!data_) throw std::bad_alloc();
  const PanelView src = w.view();
  const int K = k_, K2 = k_pairs();
  tbb::parallel_for(0, n_panels(), [&](int p) {
    std::uint16_t* dst = data_.get() + static_cast<std::size_t>(p) * panel_elems();
    const std::size_t base = static_cast<std::size_t>(p) * src.panel_stride;
    for (int i = 0; i < K2; ++i) {
      for (int j = 0; j < 2; ++j) {
        const int k = 2 * i + j;
        std::uint16_t* d = dst + static_cast<std::size_t>(i) * kPairRow + j;
        if (k >= K) {
          for (int c = 0; c < kPanel; ++c) d[2 * c] = 0;
          continue;
        }
        const std::size_t e = base + static_cast<std::size_t>(k) * kPanel;
        switch (src.dtype) {
          case PanelDType::kBF16: {
            const auto* s = static_cast<const std::uint16_t*>(src.data) + e;
            for (int c = 0; c < kPanel; ++c) d[2 * c] = s[c];
            break;
          }
          case PanelDType::kF16: {
            const auto* s = static_cast<const std::uint16_t*>(src.data) + e;
            for (int c = 0; c < kPanel; ++c) d[2 * c] = f32_to_bf16(f16_to_f32(s[c]));
            break;
          }
          case PanelDType::kF32: {
            const auto* s = static_cast<const float*>(src.data) + e;
            for (int c = 0; c < kPanel; ++c) d[2 * c] = f32_to_bf16(s[c]);
            break;
          }
        }
      }
    }
  });
}

std::uint16_t Bf16Weight::at(int n, int k) const {
  return data_[static_cast<std::size_t>(n / kPanel) * panel_elems() +
               static_cast<std::size_t>(k / 2) * kPairRow + static_cast<std::size_t>(n % kPanel) * 2 +
               static_cast<std::size_t>(k % 2)];
}

void matmul_bf16(int M, const float* X, int ldx, const Bf16Weight& W, const float* bias, float* Y,
                 int ldy) {
  if (M <= 0 || W.n() <= 0) return;
  const int K = W.k(), K2 = W.k_pairs();
  // The activations rounded to bf16 once per call (per element: the same bits wherever the row
  // sits), as pairs; the odd tail pairs with a zero.
  const auto x2 = std::make_unique_for_overwrite<std::uint32_t[]>(static_cast<std::size_t>(M) *
                                                                  static_cast<std::size_t>(K2));
  if (isa_slot().load(std::memory_order_relaxed) == Bf16Isa::kAvx512Bf16)
    round_rows_avx512bf16(M, X, ldx, K, x2.get());
  else
    round_rows_portable(M, X, ldx, K, x2.get());
  const Operands o{x2.get(), K2, &W, bias, Y, ldy};
  const int n_panels = W.n_panels();
  const double work = 2.0 * M * W.n() * W.k();
  if (work < 4e6) {
    run_block(0, M, 0, n_panels, o);
    return;
  }
  const int n_row_blocks = (M + kRowBlock - 1) / kRowBlock;
  const int n_groups = (n_panels + kPanelGroup - 1) / kPanelGroup;
  tbb::parallel_for(tbb::blocked_range<int>(0, n_row_blocks * n_groups, 1),
                    [&](const tbb::blocked_range<int>& r) {
                      for (int t = r.begin(); t < r.end(); ++t) {
                        const int g = t / n_row_blocks, rb = t % n_row_blocks;
                        run_block(rb * kRowBlock, std::min(M, (rb + 1) * kRowBlock),
                                  g * kPanelGroup, std::min(n_panels, (g + 1) * kPanelGroup), o);
                      }
                    });
}

bool parse_bf16_isa(const std::string& name, Bf16Isa* out) {
  if (name == "avx512bf16" || name == "avx512_bf16") *out = Bf16Isa::kAvx512Bf16;
  else if (name == "portable") *out = Bf16Isa::kPortable;
  else return false;
  return true;
}

const char* bf16_isa_name(Bf16Isa isa) {
  return isa == Bf16Isa::kAvx512Bf16 ? "avx512_bf16" : "portable";
}

bool bf16_isa_supported(Bf16Isa isa) { return cpu_has(isa); }

Bf16Isa bf16_isa() { return isa_slot().load(std::memory_order_relaxed); }

bool set_bf16_isa_for_testing(Bf16Isa isa) {
  if (!cpu_has(isa)) return false;
  isa_slot().store(isa, std::memory_order_relaxed);
  return true;
}

}  // namespace pythia::model

#pragma GCC diagnostic pop

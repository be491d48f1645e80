// bf16 compute: the products of the model with bf16 operands and fp32 accumulation
// (`--compute bf16`; the default fp32 path is gemm.h and is not touched by anything here).
//
// Weights: Bf16Weight, panels of 64 output columns in a pair-interleaved layout
// [ceil(K/2)][64][2] (for pair i, column c: W[c][2i], W[c][2i+1] side by side, the 32-bit lane
// vdpbf16ps reads), zero past N and, for odd K, at k = K. Built once from a PackedWeight: bf16
// panels are copied, fp16 (widened exactly) and fp32 panels are rounded to bf16 (round to
// nearest even, as torch's .bfloat16()).
// Activations: X is rounded to bf16 on every call exactly like vcvtneps2bf16: round to nearest
// even, a subnormal fp32 input becomes a signed zero (DAZ), NaN stays a quiet NaN
// (f32_to_bf16_daz; checked bit for bit against the instruction in tests/model/gemm_bf16_test.cpp).
//
// The arithmetic (THE definition; every ISA computes exactly this, so results are bit-identical
// across ISAs and position-invariant like matmul_packed): for each output element,
//   acc = 0;  for i = 0 .. ceil(K/2)-1:  acc = ftz(fma(daz(x[2i+1]), daz(w[2i+1]), acc));
//                                        acc = ftz(fma(daz(x[2i]),   daz(w[2i]),   acc));
//   y = acc + bias    (x[K] = w[K] = 0 when K is odd; daz/ftz: a subnormal becomes a signed 0)
// This is vdpbf16ps (AVX512_BF16) as measured on AMD Zen 4: the Intel SDM pseudo-code (odd
// element first, then even, DAZ on inputs, FTZ on results, round to nearest even) with each step
// a FUSED multiply-add; bf16 x bf16 products are exact in fp32 except when they over/underflow,
// which is where a fused and an unfused step differ. tests/model/gemm_bf16_test.cpp checks the
// instruction against this on random data with normal, subnormal, huge, infinite and NaN inputs
// (equal bit for bit, NaN payloads aside).
//
// ISA dispatch (bf16_isa): AVX512_BF16 (vdpbf16ps, 6 rows x 64 columns register tile), else the
// portable scalar code (the formula above, element by element: slow, for CPUs without
// AVX512_BF16 and as the tests' reference). AMX (Intel Sapphire Rapids, TDPBF16PS) would be a
// third entry at the dispatch point in gemm_bf16.cpp; it is NOT implemented: this machine has no
// AMX, and untested tile code is not shipped. (TDPBF16PS sums pairs in another order and its
// FTZ/rounding is not the same, so it would be a different, separately tested, definition.)
// PYTHIA_BF16_ISA=avx512bf16|portable overrides the choice (unsupported -> std::invalid_argument
// at the first product).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "model/gemm.h"

namespace pythia::model {

// fp32 -> bf16 as vcvtneps2bf16: RNE, subnormal -> signed zero, NaN -> quiet NaN.
std::uint16_t f32_to_bf16_daz(float f);

// One step pair of the definition above, in plain C++ (the tests' reference).
float bf16_dot_pair_reference(float acc, std::uint16_t x_even, std::uint16_t x_odd,
                              std::uint16_t w_even, std::uint16_t w_odd);

class Bf16Weight {
 public:
  static constexpr int kPanel = 64;
  Bf16Weight() = default;
  // The weight of `w` in bf16 pair panels (see header comment). Conversion runs in TBB tasks.
  explicit Bf16Weight(const PackedWeight& w);
  int n() const { return n_; }
  int k() const { return k_; }
  int k_pairs() const { return (k_ + 1) / 2; }
  int n_panels() const { return (n_ + kPanel - 1) / kPanel; }
  // Elements (uint16) per panel: k_pairs() * 128.
  std::size_t panel_elems() const { return static_cast<std::size_t>(k_pairs()) * kPanel * 2; }
  std::size_t bytes() const { return static_cast<std::size_t>(n_panels()) * panel_elems() * 2; }
  const std::uint16_t* data() const { return data_.get(); }
  // Element W[n, k] as stored (bf16 bits), for tests.
  std::uint16_t at(int n, int k) const;

 private:
  struct Free {
    void operator()(std::uint16_t* p) const;
  };
  int n_ = 0, k_ = 0;
  std::unique_ptr<std::uint16_t[], Free> data_;
};

// Y[m, n] = the bf16 product of X[m, :] and W[n, :] (definition above) + bias[n] (bias may be
// null), m < M, n < W.n(). Position-invariant (a row's values do not depend on M, its position,
// the split into tasks or threads). Parallel over (row block, panel group) TBB tasks when large.
// Thread-safe.
void matmul_bf16(int M, const float* X, int ldx, const Bf16Weight& W, const float* bias, float* Y,
                 int ldy);

// Instruction set of matmul_bf16. Default: AVX512_BF16 when the CPU has it, else portable.
enum class Bf16Isa { kAvx512Bf16, kPortable };
bool parse_bf16_isa(const std::string& name, Bf16Isa* out);  // "avx512bf16" | "portable"
const char* bf16_isa_name(Bf16Isa isa);                      // "avx512_bf16" | "portable"
bool bf16_isa_supported(Bf16Isa isa);
Bf16Isa bf16_isa();
// Tests and benchmarks only; false (no change) if the CPU lacks `isa`.
bool set_bf16_isa_for_testing(Bf16Isa isa);

}  // namespace pythia::model

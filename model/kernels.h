// The element-wise and attention kernels of the GPT-NeoX forward pass (fp32), reproducing
// transformers 4.40.2 modeling_gpt_neox.py. Naive versions of each live in kernels_reference.h
// (used by tests). Shape legend in model/README.md: T rows (tokens), C hidden, H heads,
// D head_dim, R rotary dims (R <= D, even).
//
// All functions are pure (write only their outputs) and thread-safe. Vectorised with AVX-512 or
// AVX2+FMA, following the GEMM's ISA choice (gemm.h GemmIsa: the best the CPU has, or
// PYTHIA_GEMM_ISA); gelu, softmax, sum_exp_shifted and attention_one give the same bits on the
// AVX2 and AVX-512 paths (same operations, same reduction trees); max_except / first_equal use
// AVX-512 or scalar code (exact either way). Every function gives the same value for a row
// whatever the other rows, the thread count or the batch are.
#pragma once

#include <cstddef>
#include <vector>

#include "model/gemm.h"

namespace pythia::model {

// torch.nn.LayerNorm over the last dim: y = (x - mean) / sqrt(var + eps) * gamma + beta
// (biased variance). Mean and variance accumulate in double. x: [T, C] with row stride ldx;
// y: [T, C] with row stride ldy; y may alias x when ldx == ldy.
void layer_norm(int T, int C, const float* x, int ldx, const float* gamma, const float* beta,
                float eps, float* y, int ldy);

// In place: x = x * 0.5 * (1 + erf(x / sqrt(2)))  (torch.nn.functional.gelu, approximate='none';
// GPT-NeoX hidden_act "gelu"). erf is a rational approximation (|error| < 1e-6 vs std::erf) on the
// AVX-512 and AVX2 paths, std::erf otherwise.
void gelu_inplace(float* x, std::size_t n);

// y[i] += x[i]
void add_inplace(float* y, const float* x, std::size_t n);

// RoPE tables as transformers 4.40.2 GPTNeoXRotaryEmbedding builds them, all in float32:
//   inv_freq[i] = 1 / base^(float(2i) / R)            (i < R/2; recomputed, never the stored buffer)
//   cos[p][i] = cos(float(p) * inv_freq[i]),  sin likewise   (HF: emb = cat(freqs, freqs))
class RotaryTable {
 public:
  RotaryTable() = default;
  // REQUIRES: rotary_dim even, >= 0; max_positions >= 0.
  RotaryTable(int rotary_dim, double base, int max_positions);
  int rotary_dim() const { return rot_; }
  const float* cos_row(int pos) const { return cos_.data() + static_cast<std::size_t>(pos) * half_; }
  const float* sin_row(int pos) const { return sin_.data() + static_cast<std::size_t>(pos) * half_; }
  const std::vector<float>& inv_freq() const { return inv_freq_; }

  // NeoX rotate-half on the first R dims of one head vector v[D] at position pos (in place):
  //   i <  R/2: v[i] = v[i]*cos - v[i+R/2]*sin;   i >= R/2: v[i] = v[i]*cos + v[i-R/2]*sin
  // (each product rounded separately, as torch's q*cos + rotate_half(q)*sin). Dims >= R unchanged.
  void apply(float* v, int pos) const;

 private:
  int rot_ = 0, half_ = 0;
  std::vector<float> inv_freq_, cos_, sin_;
};

// Causal attention for a chunk of nq consecutive query rows of one head, positions
// q_pos0 .. q_pos0+nq-1, against keys/values at positions 0 .. q_pos0+nq-1.
//   q:      [nq, D] with row stride ldq (rotated)
//   keys:   the head's rotated keys [L, D] packed by pack_panels (view.n >= q_pos0+nq, k = D)
//   values: the head's values [L, D] packed by pack_panels_transposed (view.n = D, k >= q_pos0+nq)
//   out:    [nq, D] with row stride ldo
//   scores = (q k^T) * scale; softmax over keys <= own position (fp32); out = softmax · v.
// Both products are matmul_panels (gemm.h: one fma chain per element, fixed order), so a query's
// result does not depend on how queries are chunked. Only [nq, q_pos0+nq] scores are formed; the
// masked part of the last block gets probability 0. `scratch` holds nq*(q_pos0+nq) floats.
void attention_chunk(int nq, int q_pos0, int D, float scale, const float* q, int ldq,
                     const PanelView& keys, const PanelView& values, float* out, int ldo,
                     float* scratch);

// One query at position pos against keys/values 0..pos of one head (decode step). Fixed order on
// every path: score = 16 fma partial sums by d % 16 + reduce tree, softmax_inplace, one fma chain
// over keys per output dim.
// `scratch` must hold pos+1 floats.
void attention_one(int pos, int D, float scale, const float* q, const float* k, const float* v,
                   float* out, float* scratch);

// In place softmax of x[0..n): exp(x - max) / sum, sum accumulated in fixed lane order (fp32).
void softmax_inplace(float* x, int n);

// sum_i exp(x[i] - shift) accumulated in double, fixed order (for logsumexp). exp is evaluated in
// float (|rel error| < 2e-7) on the AVX-512 and AVX2 paths, std::exp in double otherwise.
double sum_exp_shifted(const float* x, std::size_t n, float shift);

// Largest x[i] over i in [0, n) other than skip_a and skip_b (-1 = none); -inf if nothing is
// left. NaNs are ignored and reported through *any_nan (never null).
float max_except(const float* x, int n, int skip_a, int skip_b, bool* any_nan);

// Smallest i in [0, n), other than skip_a and skip_b, with x[i] == value; -1 if none.
int first_equal(const float* x, int n, float value, int skip_a, int skip_b);

}  // namespace pythia::model

// Naive, obviously-correct versions of the kernels in kernels.h, written straight from
// transformers 4.40.2 modeling_gpt_neox.py (double accumulation where it helps). Used by the
// kernel tests; slow. Same shapes and layouts as kernels.h.
#pragma once

#include <vector>

namespace pythia::model::reference {

void layer_norm(int T, int C, const float* x, const float* gamma, const float* beta, float eps,
                float* y);
float gelu(float x);  // x * 0.5 * (1 + erf(x / sqrt(2))) in double, rounded
// inv_freq[i] = 1 / base^(2i/R) in float32, as HF.
std::vector<float> rotary_inv_freq(int rotary_dim, double base);
// HF apply_rotary_pos_emb on one head vector: q*cos + rotate_half(q)*sin over the first R dims.
void rotary(float* v, int rotary_dim, double base, int pos);
// Full masked square, as HF _attn: q, k, v: [T, D] for positions 0..T-1; out: [T, D].
void causal_attention(int T, int D, float scale, const float* q, const float* k, const float* v,
                      float* out);
void softmax(float* x, int n);  // double accumulation

}  // namespace pythia::model::reference

#include "model/kernels_reference.h"

#include <cmath>
#include <limits>

namespace pythia::model::reference {

void layer_norm(int T, int C, const float* x, const float* gamma, const float* beta, float eps,
                float* y) {
  for (int t = 0; t < T; ++t) {
    const float* xr = x + static_cast<std::size_t>(t) * C;
    double mean = 0.0, var = 0.0;
    for (int c = 0; c < C; ++c) mean += xr[c];
    mean /= C;
    for (int c = 0; c < C; ++c) var += (xr[c] - mean) * (xr[c] - mean);
    var /= C;
    for (int c = 0; c < C; ++c) {
      y[static_cast<std::size_t>(t) * C + c] =
          static_cast<float>((xr[c] - mean) / std::sqrt(var + eps) * gamma[c] + beta[c]);
    }
  }
}

float gelu(float x) {
  const double d = x;
  return static_cast<float>(d * 0.5 * (1.0 + std::erf(d / std::sqrt(2.0))));
}

std::vector<float> rotary_inv_freq(int rotary_dim, double base) {
  std::vector<float> inv(static_cast<std::size_t>(rotary_dim / 2));
  for (int i = 0; i < rotary_dim / 2; ++i) {
    inv[static_cast<std::size_t>(i)] = 1.0f / std::pow(static_cast<float>(base),
                                                       static_cast<float>(2 * i) / rotary_dim);
  }
  return inv;
}

void rotary(float* v, int rotary_dim, double base, int pos) {
  const int half = rotary_dim / 2;
  const std::vector<float> inv = rotary_inv_freq(rotary_dim, base);
  std::vector<float> cosv(static_cast<std::size_t>(rotary_dim)), sinv(cosv.size()), rh(cosv.size());
  for (int i = 0; i < rotary_dim; ++i) {  // emb = cat(freqs, freqs)
    const float f = static_cast<float>(pos) * inv[static_cast<std::size_t>(i % half)];
    cosv[static_cast<std::size_t>(i)] = std::cos(f);
    sinv[static_cast<std::size_t>(i)] = std::sin(f);
  }
  for (int i = 0; i < rotary_dim; ++i)  // rotate_half: cat(-x2, x1)
    rh[static_cast<std::size_t>(i)] = i < half ? -v[i + half] : v[i - half];
  for (int i = 0; i < rotary_dim; ++i) {
    const float a = v[i] * cosv[static_cast<std::size_t>(i)];
    const float b = rh[static_cast<std::size_t>(i)] * sinv[static_cast<std::size_t>(i)];
    v[i] = a + b;
  }
}

void softmax(float* x, int n) {
  double mx = -std::numeric_limits<double>::infinity();
  for (int i = 0; i < n; ++i) mx = std::max(mx, static_cast<double>(x[i]));
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += std::exp(x[i] - mx);
  for (int i = 0; i < n; ++i) x[i] = static_cast<float>(std::exp(x[i] - mx) / sum);
}

void causal_attention(int T, int D, float scale, const float* q, const float* k, const float* v,
                      float* out) {
  const float kMasked = std::numeric_limits<float>::lowest();  // torch.finfo(float32).min
  std::vector<float> s(static_cast<std::size_t>(T));
  for (int i = 0; i < T; ++i) {
    for (int j = 0; j < T; ++j) {
      double dot = 0.0;
      for (int d = 0; d < D; ++d)
        dot += static_cast<double>(q[static_cast<std::size_t>(i) * D + d]) * k[static_cast<std::size_t>(j) * D + d];
      s[static_cast<std::size_t>(j)] = j <= i ? static_cast<float>(dot * scale) : kMasked;
    }
    softmax(s.data(), T);
    for (int d = 0; d < D; ++d) {
      double acc = 0.0;
      for (int j = 0; j < T; ++j)
        acc += static_cast<double>(s[static_cast<std::size_t>(j)]) * v[static_cast<std::size_t>(j) * D + d];
      out[static_cast<std::size_t>(i) * D + d] = static_cast<float>(acc);
    }
  }
}

}  // namespace pythia::model::reference

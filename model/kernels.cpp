// Dispatch and scalar paths of the kernels in kernels.h. Each SIMD-capable kernel picks the
// AVX-512 (kernels_avx512.cpp), AVX2+FMA (kernels_avx2.cpp) or scalar code below, following the
// GEMM's ISA choice; the per-ISA entry points and their contract are in kernels_isa.h.
#include "model/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "model/gemm.h"
#include "model/kernels_isa.h"

namespace pythia::model {
namespace {

// The SIMD paths follow the GEMM's ISA choice (gemm.h: best the CPU has, or PYTHIA_GEMM_ISA /
// set_gemm_isa_for_testing), so one switch selects AVX-512, AVX2+FMA or the scalar code.
bool have_avx512() { return gemm_isa() == GemmIsa::kAvx512; }
bool have_avx2() { return gemm_isa() == GemmIsa::kAvx2; }

void gelu_scalar(float* x, std::size_t n) {
  const float rsqrt2 = static_cast<float>(M_SQRT1_2);
  for (std::size_t i = 0; i < n; ++i) x[i] = x[i] * 0.5f * (1.0f + std::erf(x[i] * rsqrt2));
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

float max_range(const float* x, int begin, int end, bool* any_nan) {
  if (begin >= end) return -std::numeric_limits<float>::infinity();
  if (have_avx512()) return detail::max_range_avx512(x, begin, end, any_nan);
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
  if (have_avx512()) return detail::first_equal_avx512(x, begin, end, value);
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
    detail::gelu_avx2(x, n);
    return;
  }
  if (have_avx512()) {
    detail::gelu_avx512(x, n);
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
    detail::softmax_avx2(x, n);
    return;
  }
  if (have_avx512()) {
    detail::softmax_avx512(x, n);
  } else {
    softmax_scalar(x, n);
  }
}

double sum_exp_shifted(const float* x, std::size_t n, float shift) {
  if (have_avx512()) return detail::sum_exp_avx512(x, n, shift);
  if (have_avx2()) return detail::sum_exp_avx2(x, n, shift);
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
    detail::attention_one_avx512(pos, D, scale, q, k, v, out, scratch);
    return;
  }
  if (have_avx2() && D % 16 == 0) {
    detail::attention_one_avx2(pos, D, scale, q, k, v, out, scratch);
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

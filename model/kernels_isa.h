// Internal to model/kernels*: the per-ISA entry points behind kernels.h. kernels.cpp dispatches
// to them on gemm_isa() (gemm.h); nothing else should call them. Not part of the public API.
//
// Contract shared by every function here:
// - *_avx512 functions are compiled with __attribute__((target("avx512f"))) and *_avx2 with
//   target("avx2,fma"); REQUIRES the CPU to have that ISA (gemm_isa_supported), else SIGILL.
// - Each computes what its kernels.h counterpart documents. The *_avx2 functions perform the
//   same operations in the same order as the *_avx512 ones (8 lanes at a time, same reduction
//   trees), so gelu, softmax, sum_exp and attention_one give identical bits on both paths
//   (tests/model/kernels_isa_test.cpp); attention_one's scalar fallback in kernels.cpp spells
//   the same order out.
// - Pure: they write only their outputs (and scratch), so they are thread-safe.
#pragma once

#include <cstddef>

namespace pythia::model::detail {

// gelu_inplace on x[0..n).
__attribute__((target("avx512f"))) void gelu_avx512(float* x, std::size_t n);
__attribute__((target("avx2,fma"))) void gelu_avx2(float* x, std::size_t n);

// softmax_inplace on x[0..n). REQUIRES: n >= 1.
__attribute__((target("avx512f"))) void softmax_avx512(float* x, int n);
__attribute__((target("avx2,fma"))) void softmax_avx2(float* x, int n);

// sum_exp_shifted: sum_i exp(x[i] - shift), exp in float, summed in double in a fixed tree.
__attribute__((target("avx512f"))) double sum_exp_avx512(const float* x, std::size_t n,
                                                         float shift);
__attribute__((target("avx2,fma"))) double sum_exp_avx2(const float* x, std::size_t n,
                                                        float shift);

// attention_one (decode step). REQUIRES: D % 16 == 0; p holds pos+1 floats (scratch: the
// probabilities).
__attribute__((target("avx512f"))) void attention_one_avx512(int pos, int D, float scale,
                                                             const float* q, const float* k,
                                                             const float* v, float* out,
                                                             float* p);
__attribute__((target("avx2,fma"))) void attention_one_avx2(int pos, int D, float scale,
                                                           const float* q, const float* k,
                                                           const float* v, float* out, float* p);

// Largest non-NaN x[i] for i in [begin, end) (-inf if none); sets *any_nan if a NaN is seen
// (never clears it). REQUIRES: begin < end.
__attribute__((target("avx512f"))) float max_range_avx512(const float* x, int begin, int end,
                                                         bool* any_nan);
// Smallest i in [begin, end) with x[i] == value, -1 if none.
__attribute__((target("avx512f"))) int first_equal_avx512(const float* x, int begin, int end,
                                                         float value);

}  // namespace pythia::model::detail

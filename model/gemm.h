// Matrix products of the forward pass. This is the ONLY file that calls OpenBLAS.
//
// The model uses matmul_packed / matmul_panels (below): pre-packed weights, an AVX-512 6x64
// register tile (AVX2+FMA 6x16 tile on CPUs without AVX-512, scalar fallback otherwise), one fma
// chain per output element in a fixed order -> position-invariant (a row's values do not depend
// on M, on its position, on chunking or threads) and, on this machine, about 2x OpenBLAS 0.3.21
// sgemm (whose DYNAMIC_ARCH build picks its AVX2 Haswell kernel here and repacks the weight on
// every call); bench/bench_forward prints both rates side by side.
// The OpenBLAS wrappers (sgemm_nt/nn, linear_sgemm) remain for comparison and reference use.
//
// Half-precision weights: panels may hold fp16 or bf16 elements (PanelDType), kept as the
// checkpoint stored them; every kernel widens them to fp32 in registers (AVX-512F vcvtph2ps, F16C
// on the AVX2 path, a 16-bit shift for bf16, float16.h in the portable path) right before the
// fma. Widening is exact, so a product on half panels gives exactly the bits of the same product
// on the fp32 panels of the widened weights, on every ISA (tests/model/half_weights_test.cpp),
// with half the memory and half the weight traffic.
//
// Thread policy (perf-anchors.md §6.6): OpenBLAS always runs single-threaded inside the calling
// thread; parallelism comes from TBB tasks. The first call of any OpenBLAS wrapper here (and
// use_single_threaded_blas()) sets OpenBLAS to 1 thread.
//
// Determinism note: cblas_sgemm's value for a row depends on M and on the row's position inside
// the call, so callers of the sgemm wrappers must split rows into calls in a way that depends only
// on the sequence (never on thread count or batch composition).
//
// Layout: all matrices row-major; "ld" = distance in floats between consecutive rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace pythia::model {

// C[M,N] = alpha * A[M,K] · B[N,K]^T + beta * C   (B given as [N,K]: a weight in HF layout).
// Thread-safe; runs in the calling thread. M, N, K >= 0.
void sgemm_nt(int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
              float beta, float* C, int ldc);

// C[M,N] = alpha * A[M,K] · B[K,N] + beta * C.  Thread-safe; runs in the calling thread.
void sgemm_nn(int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
              float beta, float* C, int ldc);

// Y[M,N] = X[M,K] · W[N,K]^T + bias[N] (bias may be null) via one sgemm call in the calling thread.
// Like torch.nn.functional.linear (addmm: bias + X W^T).
void linear_sgemm(int M, int N, int K, const float* X, int ldx, const float* W, const float* bias,
                  float* Y, int ldy);

// Element type of a panel: fp32, or IEEE fp16 / bfloat16 bit patterns (widened exactly to fp32
// inside the kernels). Attention keys and values are always kF32 (activations).
enum class PanelDType : std::uint8_t { kF32, kF16, kBF16 };
// Bytes per element: 4, 2, 2.
std::size_t panel_dtype_size(PanelDType t);
// "F32", "F16", "BF16" (the safetensors spellings).
const char* panel_dtype_name(PanelDType t);

// A matrix in the panel layout of matmul_packed(), given by pointer: for an [n outputs, k inputs]
// operand, panel p (p < ceil(n/64)) starts at element p * panel_stride of `data` and holds k rows
// of 64 elements of `dtype` (output columns p*64 .. p*64+63, zero past n).
// panel_stride >= k * 64 (in elements).
struct PanelView {
  const void* data = nullptr;
  int n = 0, k = 0;
  std::size_t panel_stride = 0;
  PanelDType dtype = PanelDType::kF32;
};

// Packs rows W[N, K] (row stride ldw) into `out` (ceil(N/64) * 64 * K floats): the view
// {out, N, K, K*64}. Columns past N are zero.
void pack_panels(const float* W, int ldw, int N, int K, float* out);
// Packs the TRANSPOSE of A[K, N] (row stride lda), i.e. the operand W[n][k] = A[k][n], into
// `out` (ceil(N/64) * 64 * K floats): the view {out, N, K, K*64}. (Attention: V as the weight of
// probabilities x V.)
void pack_panels_transposed(const float* A, int lda, int K, int N, float* out);

// matmul_packed's product on a view, in the calling thread (same arithmetic, same values).
void matmul_panels(int M, const float* X, int ldx, const PanelView& W, const float* bias,
                   float* Y, int ldy);

// A weight W[N, K] (nn.Linear layout: N outputs, K inputs) repacked once for matmul_packed():
// panels of kPanel = 64 output columns, each panel [K][64] contiguous and 64-byte aligned,
// zero-padded past N, in fp32 or in the half type the checkpoint stored (PanelDType).
// Immutable after construction; shareable between threads.
class PackedWeight {
 public:
  static constexpr int kPanel = 64;
  PackedWeight() = default;
  // fp32 panels. REQUIRES: W holds N*K floats (row-major [N, K]); N, K >= 0.
  PackedWeight(const float* W, int N, int K);
  // Panels of `dtype` holding W's elements unchanged (no conversion: fp16 stays fp16).
  // W: N rows of K elements of `dtype` (kF32: float; kF16 / kBF16: 16-bit patterns), row-major,
  // little-endian, any alignment. If `row_map` is not empty it must be a permutation of [0, N):
  // packed row n is then source row row_map[n] (the QKV regrouping); std::invalid_argument if
  // its size or an entry is out of range.
  // If `on_rows_read` is set, it is called in the constructing thread, in increasing order, with
  // r such that every source row < r has been read for the last time (last call: r = N): the
  // loader uses it to drop the pages of a memory-mapped tensor as packing goes. With a row_map
  // it is called once, at the end. Packing itself runs in TBB tasks.
  PackedWeight(PanelDType dtype, const void* W, int N, int K, std::span<const int> row_map = {},
               const std::function<void(int)>& on_rows_read = {});
  PanelDType dtype() const { return dtype_; }
  int n() const { return n_; }
  int k() const { return k_; }
  int n_panels() const { return (n_ + kPanel - 1) / kPanel; }
  // Bytes of the panels (the memory this weight holds).
  std::size_t bytes() const {
    return static_cast<std::size_t>(n_panels()) * kPanel * static_cast<std::size_t>(k_) *
           panel_dtype_size(dtype_);
  }
  // Element W[n, k] widened to fp32 (for tests and debugging).
  float at(int n, int k) const;
  PanelView view() const {
    return {data_.get(), n_, k_, static_cast<std::size_t>(k_) * kPanel, dtype_};
  }

 private:
  struct Free {
    void operator()(std::byte* p) const;
  };
  void allocate();
  PanelDType dtype_ = PanelDType::kF32;
  int n_ = 0, k_ = 0;
  std::unique_ptr<std::byte[], Free> data_;
};

// Y[m, n] = dot(X[m, :], W[n, :]) + bias[n]   (bias may be null), for all m < M, n < W.n().
// POSITION-INVARIANT: every element is computed as  acc = 0; for k = 0..K-1 ascending:
// acc = fma(X[m,k], W[n,k], acc);  y = acc + bias[n]  (W[n,k] widened to fp32 for half
// panels) — whatever M is, wherever row m sits and
// however the work is split, so one sequence's rows give the same bits alone or batched with
// others (decode) and in any chunking (forward). The AVX-512 kernel (6 rows x 64 columns per
// register tile), the AVX2+FMA kernel (6 x 16) and the portable fallback compute exactly this,
// so all three give the same bits (tests/model/gemm_isa_test.cpp); see GemmIsa for dispatch.
// No per-call repacking (unlike sgemm, whose packing of a 50304 x 512 weight costs ~20 % at
// 64 rows). Parallel over (row block, panel group) tasks via TBB when the product is large.
// Thread-safe.
void matmul_packed(int M, const float* X, int ldx, const PackedWeight& W, const float* bias,
                   float* Y, int ldy);
// The same arithmetic written element by element without SIMD or threads (the fallback on CPUs
// without AVX2+FMA; tests check that matmul_packed equals it bit for bit).
void matmul_packed_portable(int M, const float* X, int ldx, const PackedWeight& W,
                            const float* bias, float* Y, int ldy);

// Instruction set used by matmul_packed / matmul_panels. Default: the best the CPU supports
// (AVX-512F, else AVX2+FMA+F16C, else portable scalar code), overridable once at first use by the
// environment variable PYTHIA_GEMM_ISA=avx512|avx2|portable (an unknown or unsupported value
// throws std::invalid_argument from the first product). All choices give identical bits; only
// speed differs.
enum class GemmIsa { kAvx512, kAvx2, kPortable };
// "avx512" / "avx2" / "portable" <-> GemmIsa; parse returns false on an unknown name.
bool parse_gemm_isa(const std::string& name, GemmIsa* out);
const char* gemm_isa_name(GemmIsa isa);
// True if this CPU can run `isa` (kPortable: always).
bool gemm_isa_supported(GemmIsa isa);
// The ISA in use now.
GemmIsa gemm_isa();
// Switches the ISA for all later products (tests and benchmarks only; not meant to race with
// products in flight, though a switch mid-call changes no value). Returns false, changing
// nothing, if the CPU does not support `isa`.
bool set_gemm_isa_for_testing(GemmIsa isa);

// Sets OpenBLAS to one thread (idempotent). Called by ThreadSetup and by the first product above.
void use_single_threaded_blas();

// openblas_get_config() + core name, for benchmark headers.
std::string blas_config();

}  // namespace pythia::model

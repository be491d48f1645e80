// Matrix products of the forward pass. This is the ONLY file that calls OpenBLAS.
//
// Thread policy (perf-anchors.md §6.6): OpenBLAS always runs single-threaded inside the calling
// thread; parallelism comes from TBB tasks that call these functions concurrently. The first call
// of any function here (and use_single_threaded_blas()) sets OpenBLAS to 1 thread.
//
// Determinism: cblas_sgemm's value for a row depends on M and on the row's position inside the
// call, so callers must split rows into calls in a way that depends only on the sequence (never on
// thread count or batch composition). matmul_rows_invariant() has no such dependence: each output
// element is one dot product with a fixed accumulation order (see there).
//
// Layout: all matrices row-major; "ld" = distance in floats between consecutive rows.
#pragma once

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

// Position-invariant small-M product for decode steps:
//   Y[m,n] = dot(X[m,:], W[n,:]) + bias[n]   (bias may be null)
// Every element is computed the same way whatever M is and wherever row m sits: 16 lane partial
// sums (lane = k mod 16, k ascending, fused multiply-add), a fixed reduction tree over the lanes,
// then + bias. Each weight row is read once for all M rows (decode is weight-bandwidth bound).
// Parallel over blocks of N via TBB (does not change any value). Thread-safe.
void matmul_rows_invariant(int M, int N, int K, const float* X, int ldx, const float* W,
                           const float* bias, float* Y, int ldy);

// Sets OpenBLAS to one thread (idempotent). Called by ThreadSetup and by the first product above.
void use_single_threaded_blas();

// openblas_get_config() + core name, for benchmark headers.
std::string blas_config();

}  // namespace pythia::model

// Run-time CPU feature checks the builtins do not cover on every compiler: clang 14 rejects
// __builtin_cpu_supports("f16c") (fuzz finding F3), so F16C is read from CPUID leaf 1 (ECX bit 29).
// Used by the fp16 paths of gemm.cpp and tensor_store.cpp. Thread safety: pure.
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace pythia::model {

// True when the CPU has F16C (vcvtph2ps); callers also check AVX (OS-enabled YMM state) with
// __builtin_cpu_supports("avx").
inline bool cpu_has_f16c_bit() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (ecx & bit_F16C) != 0;
#else
  return false;
#endif
}

}  // namespace pythia::model

// Run-time CPU feature checks the builtins do not cover on every compiler: clang 14 rejects
// __builtin_cpu_supports("f16c") (fuzz finding F3), so F16C is read from CPUID leaf 1 (ECX bit 29).
// Used by the fp16 paths of gemm.cpp and tensor_store.cpp. Thread safety: pure.
// Also the one reading of the PYTHIA_*_ISA environment overrides (isa_from_env), shared by the
// fp32 GEMM (PYTHIA_GEMM_ISA, gemm.cpp) and the bf16 GEMM (PYTHIA_BF16_ISA, gemm_bf16.cpp).
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>

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

// The instruction set named by environment variable `var`: unset or empty -> best(); else the
// value parsed by parse(const std::string&, Isa*) -> bool. Throws std::invalid_argument
// "<var>: unknown value '<v>' (expected <expected>)" if it does not parse, and
// "<var>=<v>: this CPU does not support it" if supported(isa) is false.
template <typename Isa, typename Parse, typename Supported, typename Best>
Isa isa_from_env(const char* var, const char* expected, Parse parse, Supported supported,
                 Best best) {
  const char* env = std::getenv(var);
  if (env == nullptr || *env == '\0') return best();
  Isa want{};
  if (!parse(std::string(env), &want))
    throw std::invalid_argument(std::string(var) + ": unknown value '" + env + "' (expected " +
                                expected + ")");
  if (!supported(want))
    throw std::invalid_argument(std::string(var) + "=" + env + ": this CPU does not support it");
  return want;
}

}  // namespace pythia::model

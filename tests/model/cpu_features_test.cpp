// model/cpu_features.h: the CPUID F16C check (fuzz finding F3: clang 14 rejects
// __builtin_cpu_supports("f16c"), so the fuzz/clang build could not compile the fp16 paths) agrees
// with the kernel's view (/proc/cpuinfo flags) and, under GCC, with the builtin it replaces.
// isa_from_env: the one reading of the PYTHIA_*_ISA overrides (gemm.cpp PYTHIA_GEMM_ISA,
// gemm_bf16.cpp PYTHIA_BF16_ISA): unset/empty -> the best ISA, a supported name -> that ISA, an
// unknown or unsupported name -> std::invalid_argument naming the variable and the value.
#include "model/cpu_features.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <sstream>
#include <string>

namespace pythia::model {
namespace {

TEST(CpuFeatures, F16cBitMatchesProcCpuinfo) {
  std::ifstream in("/proc/cpuinfo");
  if (!in) GTEST_SKIP() << "no /proc/cpuinfo";
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    const std::string flags = line + " ";
    EXPECT_EQ(cpu_has_f16c_bit(), flags.find(" f16c ") != std::string::npos) << line;
    return;
  }
  GTEST_SKIP() << "no flags line in /proc/cpuinfo";
}

#if defined(__GNUC__) && !defined(__clang__)
TEST(CpuFeatures, F16cBitMatchesGccBuiltin) {
  EXPECT_EQ(cpu_has_f16c_bit(), static_cast<bool>(__builtin_cpu_supports("f16c")));
}
#endif

enum class FakeIsa { kFast, kSlow, kMissing };

bool parse_fake(const std::string& s, FakeIsa* out) {
  if (s == "fast") *out = FakeIsa::kFast;
  else if (s == "slow") *out = FakeIsa::kSlow;
  else if (s == "missing") *out = FakeIsa::kMissing;
  else return false;
  return true;
}

constexpr const char* kVar = "PYTHIA_TEST_FAKE_ISA";

FakeIsa read() {
  return isa_from_env<FakeIsa>(kVar, "fast, slow or missing", parse_fake,
                               [](FakeIsa i) { return i != FakeIsa::kMissing; },
                               [] { return FakeIsa::kFast; });
}

std::string error_of(const char* value) {
  ::setenv(kVar, value, 1);
  try {
    read();
  } catch (const std::invalid_argument& e) {
    ::unsetenv(kVar);
    return e.what();
  }
  ::unsetenv(kVar);
  return "";
}

TEST(IsaFromEnv, UnsetOrEmptyGivesTheBest) {
  ::unsetenv(kVar);
  EXPECT_EQ(read(), FakeIsa::kFast);
  ::setenv(kVar, "", 1);
  EXPECT_EQ(read(), FakeIsa::kFast);
  ::unsetenv(kVar);
}

TEST(IsaFromEnv, SupportedNameIsTaken) {
  ::setenv(kVar, "slow", 1);
  EXPECT_EQ(read(), FakeIsa::kSlow);
  ::unsetenv(kVar);
}

TEST(IsaFromEnv, UnknownAndUnsupportedNamesAreClearErrors) {
  EXPECT_EQ(error_of("turbo"),
            "PYTHIA_TEST_FAKE_ISA: unknown value 'turbo' (expected fast, slow or missing)");
  EXPECT_EQ(error_of("missing"), "PYTHIA_TEST_FAKE_ISA=missing: this CPU does not support it");
}

}  // namespace
}  // namespace pythia::model

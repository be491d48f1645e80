// model/cpu_features.h: the CPUID F16C check (fuzz finding F3: clang 14 rejects
// __builtin_cpu_supports("f16c"), so the fuzz/clang build could not compile the fp16 paths) agrees
// with the kernel's view (/proc/cpuinfo flags) and, under GCC, with the builtin it replaces.
#include "model/cpu_features.h"

#include <gtest/gtest.h>

#include <fstream>
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

}  // namespace
}  // namespace pythia::model

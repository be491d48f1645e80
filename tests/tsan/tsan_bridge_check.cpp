// The TSan bridge (itt_tsan_bridge.cpp) must make TBB's fork/join and pipeline hand-offs
// race-free for TSan without hiding a real race between two tasks. Runs tsan_race_probe with the
// environment `ctest --preset tsan` sets (LD_PRELOAD, INTEL_LIBITTNOTIFY64, TSAN_OPTIONS).
// Built only with PYTHIA_TSAN (tests/tsan/CMakeLists.txt), so not named *_test.cpp.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "tests/test_util.h"

namespace {

using pythia::testing::run_shell;

std::string probe(const std::string& mode) {
  return std::string(PYTHIA_TSAN_PROBE) + " " + mode + " 2>&1";
}

TEST(TsanBridge, EnvironmentIsSet) {
  // Without these the probe below would test plain TSan, not the bridge.
  for (const char* var : {"LD_PRELOAD", "INTEL_LIBITTNOTIFY64", "INTEL_ITTNOTIFY_GROUPS"}) {
    const char* v = std::getenv(var);
    EXPECT_TRUE(v != nullptr && *v != '\0') << var << " is not set; run through `ctest --preset tsan`";
  }
}

TEST(TsanBridge, TbbHandOffsAreNotReported) {
  const auto r = run_shell(probe("clean"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.find("ThreadSanitizer"), std::string::npos) << r.out;
}

TEST(TsanBridge, RaceBetweenSiblingTasksIsReported) {
  const auto r = run_shell(probe("race"));
  EXPECT_EQ(r.code, 66) << r.out;  // TSan's exit code after a report
  EXPECT_NE(r.out.find("WARNING: ThreadSanitizer: data race"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tsan_race_probe.cpp"), std::string::npos) << r.out;
}

}  // namespace

// The LD_PRELOAD shim itself (fault_inject.c), on `dd` (coreutils) so that the product is not
// involved: a short write at the byte limit then ENOSPC, the n-th call failing, EIO on fsync, a
// failing rename, paths not matching left alone, the "...$" suffix form, and the log of faults.
#include <gtest/gtest.h>

#include "tests/fault/fault_util.h"

namespace {

using namespace pythia::fault_testing;
using pythia::testing::read_bytes;
using pythia::testing::run_shell;

class FaultShim : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = pythia::testing::fresh_temp_dir("fault_shim");
    std::ofstream(work_ / "src.bin") << std::string(100000, 'x');
  }
  void TearDown() override { fs::remove_all(work_); }
  // `cmd` under the shim with the given PYTHIA_FAULT_* settings.
  CliRun run(const std::string& settings, const std::string& cmd) {
    return run_shell("cd " + shell_quote(work_.string()) + " && env LD_PRELOAD=" + shell_quote(PYTHIA_FAULT_SHIM) +
                     " PYTHIA_FAULT_LOG=log " + settings + " " + cmd + " 2>&1");
  }
  fs::path work_;
};

TEST_F(FaultShim, ShortWriteAtTheByteLimitThenNoSpace) {
  const CliRun r = run("PYTHIA_FAULT_PATH=dst PYTHIA_FAULT_AFTER_BYTES=5000",
                       "dd if=src.bin of=dst.bin bs=4096 status=none");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << r.out;
  EXPECT_EQ(fs::file_size(work_ / "dst.bin"), 5000u);
  EXPECT_NE(read_bytes(work_ / "log").find("write 28 "), std::string::npos);
}

TEST_F(FaultShim, NthCallAndErrnoAndOps) {
  CliRun r = run("PYTHIA_FAULT_PATH=dst PYTHIA_FAULT_NTH=3", "dd if=src.bin of=dst.bin bs=4096 status=none");
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(fs::file_size(work_ / "dst.bin"), 8192u);  // calls 1 and 2 went through
  r = run("PYTHIA_FAULT_PATH=dst PYTHIA_FAULT_OPS=fsync PYTHIA_FAULT_ERRNO=EIO",
          "dd if=src.bin of=dst2.bin bs=4096 conv=fsync status=none");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("Input/output error"), std::string::npos) << r.out;
  EXPECT_EQ(fs::file_size(work_ / "dst2.bin"), 100000u);  // the writes were not selected
  r = run("PYTHIA_FAULT_PATH=moved PYTHIA_FAULT_OPS=rename", "mv dst2.bin moved.bin");
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(fs::exists(work_ / "dst2.bin"));
  EXPECT_FALSE(fs::exists(work_ / "moved.bin"));
}

TEST_F(FaultShim, OtherPathsAndSuffixPatterns) {
  // Not matching: untouched. "...$": only paths ending so.
  EXPECT_EQ(run("PYTHIA_FAULT_PATH=elsewhere", "dd if=src.bin of=dst.bin bs=4096 status=none").code, 0);
  EXPECT_EQ(fs::file_size(work_ / "dst.bin"), 100000u);
  EXPECT_EQ(run("PYTHIA_FAULT_PATH='dst$'", "dd if=src.bin of=dst.bin bs=4096 status=none").code, 0);
  EXPECT_NE(run("PYTHIA_FAULT_PATH='dst.bin$'", "dd if=src.bin of=dst.bin bs=4096 status=none").code, 0);
  // No PYTHIA_FAULT_PATH: the shim does nothing.
  EXPECT_EQ(run("", "dd if=src.bin of=dst3.bin bs=4096 status=none").code, 0);
  EXPECT_EQ(fs::file_size(work_ / "dst3.bin"), 100000u);
}

}  // namespace

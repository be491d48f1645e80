// The regression check: the embedded default sweep (`pythia-harness sweep` without --model: the
// bundled mini-pythia checkpoints, task subset, mini-pile memorization) re-run into a temporary
// folder must agree with the committed baseline tree results/baseline/ under `pythia-harness
// compare`'s default tolerances (exit 0). Then `report` on the new tree must succeed.
// To refresh the baseline after an intended change: see results/README.md.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "tests/test_util.h"

namespace {

namespace fs = std::filesystem;

using pythia::testing::CliRun;
using pythia::testing::run_harness;

TEST(Regression, DefaultSweepMatchesCommittedBaseline) {
  const fs::path baseline = fs::path(PYTHIA_SOURCE_DIR) / "results" / "baseline";
  ASSERT_TRUE(fs::is_directory(baseline)) << baseline;
  const fs::path out = fs::temp_directory_path() / ("pythia_regression_" + std::to_string(::getpid()));
  fs::remove_all(out);
  const CliRun sweep = run_harness("sweep --output " + out.string());
  ASSERT_EQ(sweep.code, 0) << sweep.out;
  const CliRun cmp = run_harness("compare " + baseline.string() + " " + out.string());
  EXPECT_EQ(cmp.code, 0) << cmp.out;
  // Every baseline checkpoint was compared (no folder missing), eval and memorization both.
  EXPECT_EQ(cmp.out.find("MISSING"), std::string::npos) << cmp.out;
  EXPECT_NE(cmp.out.find("rows_memorized"), std::string::npos) << cmp.out;
  EXPECT_NE(cmp.out.find("acc"), std::string::npos) << cmp.out;
  const CliRun rep = run_harness("report " + out.string() + " --output " + (out / "report.html").string());
  EXPECT_EQ(rep.code, 0) << rep.out;
  EXPECT_TRUE(fs::is_regular_file(out / "report.html"));
  fs::remove_all(out);
}

}  // namespace

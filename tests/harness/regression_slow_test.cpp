// The regression check: the embedded default sweep (`pythia-harness sweep` without --model: the
// bundled mini-pythia checkpoints, task subset, mini-pile memorization) re-run into a temporary
// folder must agree with the committed baseline tree results/baseline/ under `pythia-harness
// compare`'s default tolerances (exit 0). Then `report` on the new tree must succeed.
// To refresh the baseline after an intended change: see results/README.md.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

namespace {

namespace fs = std::filesystem;

struct CliRun {
  int code;
  std::string out;
};

CliRun run(const std::string& args) {
  const std::string cmd = std::string(PYTHIA_HARNESS_BIN) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(Regression, DefaultSweepMatchesCommittedBaseline) {
  const fs::path baseline = fs::path(PYTHIA_SOURCE_DIR) / "results" / "baseline";
  ASSERT_TRUE(fs::is_directory(baseline)) << baseline;
  const fs::path out = fs::temp_directory_path() / ("pythia_regression_" + std::to_string(::getpid()));
  fs::remove_all(out);
  const CliRun sweep = run("sweep --output " + out.string());
  ASSERT_EQ(sweep.code, 0) << sweep.out;
  const CliRun cmp = run("compare " + baseline.string() + " " + out.string());
  EXPECT_EQ(cmp.code, 0) << cmp.out;
  // Every baseline checkpoint was compared (no folder missing), eval and memorization both.
  EXPECT_EQ(cmp.out.find("MISSING"), std::string::npos) << cmp.out;
  EXPECT_NE(cmp.out.find("rows_memorized"), std::string::npos) << cmp.out;
  EXPECT_NE(cmp.out.find("acc"), std::string::npos) << cmp.out;
  const CliRun rep = run("report " + out.string() + " --output " + (out / "report.html").string());
  EXPECT_EQ(rep.code, 0) << rep.out;
  EXPECT_TRUE(fs::is_regular_file(out / "report.html"));
  fs::remove_all(out);
}

}  // namespace

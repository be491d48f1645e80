// Processes sharing a folder: a second `memorize` on the output folder of a running one is refused
// (exit 2, naming the journal) and changes nothing, the first finishes with the undisturbed run's
// files; `report` run again and again on a tree a `sweep` is writing never crashes nor reads a
// half-written file (exit 0, or 3 "no results files found" before the first file appears), and
// the sweep ends as an undisturbed one.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "tests/fault/fault_util.h"

namespace {

using namespace pythia::fault_testing;

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool running(pid_t pid, int& code) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) != pid) return true;
  code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return false;
}

TEST(Concurrency, SecondMemorizeOnTheSameFolderIsRefused) {
  const fs::path work = pythia::testing::fresh_temp_dir("fault_two_memorize");
  const fs::path out = work / "out";
  const auto args = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> a = {"memorize", "--model", (kFix / "mini-pythia").string(), "--revision", "step36",
                                  "--data", (kFix / "mini-pile" / "document").string(), "--sequences-per-step",
                                  "16", "--start", "0", "--end", "96", "--batch-size", "4", "--threads", "2",
                                  "--no-progress", "--output", out.string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  ASSERT_EQ(run_harness_fault(args({}), nullptr, work / "log").code, 0);
  const auto ref = snapshot(out);
  fs::remove_all(out);

  // A: slowed so that B starts while A scans (24 blocks x 80 ms).
  const pid_t a = start_harness(args({}), {"PYTHIA_MEMORIZE_TEST_BLOCK_DELAY_MS=80"}, work / "a.log");
  ASSERT_GT(a, 0);
  const fs::path journal = out / "mini-pythia" / "step36" / "memorization.journal";
  int code = 0;
  bool scanning = false;
  for (int i = 0; i < 3000 && !scanning && running(a, code); ++i) {
    std::error_code ec;
    scanning = fs::file_size(journal, ec) > 1000 && !ec;  // header and a block or more
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(scanning) << "A never got to scanning: " << pythia::testing::read_bytes(work / "a.log");
  // B, same arguments, and C, another configuration: both refused while A runs, naming the journal.
  for (const auto& extra : {std::vector<std::string>{}, std::vector<std::string>{"--tau", "0.5"}}) {
    const CliRun b = run_harness_fault(args(extra), nullptr, work / "log");
    EXPECT_EQ(b.code, 2) << b.out;
    EXPECT_NE(b.out.find("another memorize process is writing"), std::string::npos) << b.out;
    EXPECT_NE(b.out.find(journal.string()), std::string::npos) << b.out;
  }
  ASSERT_EQ(wait_exit(a), 0) << pythia::testing::read_bytes(work / "a.log");
  expect_same_tree(out, ref);
  // After A: the same command is a no-op; another configuration is refused (exit 2).
  EXPECT_EQ(run_harness_fault(args({}), nullptr, work / "log").code, 0);
  EXPECT_EQ(run_harness_fault(args({"--tau", "0.5"}), nullptr, work / "log").code, 2);
  expect_same_tree(out, ref);
  fs::remove_all(work);
}

TEST(Concurrency, ReportWhileSweepWritesTheTree) {
  const fs::path work = pythia::testing::fresh_temp_dir("fault_report_sweep");
  const fs::path out = work / "out";
  const std::vector<std::string> sweep = {
      "sweep", "--model", (kFix / "mini-pythia").string(), "--revisions", "all", "--tasks", "piqa", "--limit", "10",
      "--data-dir", (kFix / "tasks").string(), "--tokenizer", (kFix / "tokenizer" / "20B_tokenizer.json.gz").string(),
      "--memorize", "--data", (kFix / "mini-pile" / "document").string(), "--sequences-per-step", "4",
      "--batch-size", "4", "--threads", "1", "--no-progress", "--output", out.string()};
  ASSERT_EQ(run_harness_fault(sweep, nullptr, work / "log").code, 0);
  const auto ref = snapshot(out);
  fs::remove_all(out);

  const pid_t s = start_harness(sweep, {"PYTHIA_MEMORIZE_TEST_BLOCK_DELAY_MS=30"}, work / "sweep.log");
  ASSERT_GT(s, 0);
  const std::vector<std::string> report = {"report", out.string(), "--output", (work / "report.html").string()};
  int sweep_code = -1, reports = 0, with_results = 0;
  while (running(s, sweep_code)) {
    if (!fs::exists(out)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    const CliRun r = run_harness_fault(report, nullptr, work / "log");
    ++reports;
    if (r.code == 0) {
      ++with_results;
    } else {
      // Only before the first results file exists.
      EXPECT_EQ(r.code, 3) << r.out;
      EXPECT_NE(r.out.find("no results files found"), std::string::npos) << r.out;
    }
  }
  EXPECT_EQ(sweep_code, 0) << pythia::testing::read_bytes(work / "sweep.log");
  std::printf("%d reports while the sweep ran, %d of them on a tree with results\n", reports, with_results);
  EXPECT_GE(with_results, 2) << "the reports never overlapped the sweep";
  expect_same_tree(out, ref);
  EXPECT_EQ(run_harness_fault(report, nullptr, work / "log").code, 0);
  fs::remove_all(work);
}

}  // namespace

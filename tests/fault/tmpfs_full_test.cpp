// A real full disk, the second mechanism beside the LD_PRELOAD shim: in a private mount namespace
// (`unshare -m`, needs root or CAP_SYS_ADMIN; skipped otherwise) a tmpfs of a few pages is mounted
// as the output folder. `memorize`, `eval` and `sweep` run out of space there: exit non-zero with
// "No space left on device" naming the file, no temporary or partial finished file; then the
// tmpfs is grown (`mount -o remount,size=64m`, the space freed) and the same command completes
// with the files of an undisturbed run on the same mount point.
#include <gtest/gtest.h>

#include <sstream>

#include "tests/fault/fault_util.h"

namespace {

using namespace pythia::fault_testing;

struct TmpfsOutcome {
  bool skipped = false;
  int fail_code = -1, ok_code = -1;
  std::string fail_err;
};

// In one private mount namespace: the undisturbed run on a 64 MiB tmpfs at work/mnt (-> work/ref),
// then the tmpfs shrunk to `size` and the run (-> work/failed), then grown again and the re-run
// (-> work/final). `args` write into work/mnt/out.
TmpfsOutcome run_on_tmpfs(const fs::path& work, const std::string& size, const std::vector<std::string>& args) {
  const std::string cmd = shell_quote(PYTHIA_HARNESS_BIN) + join_args(args) + " >/dev/null";
  const fs::path script = work / "tmpfs.sh";
  std::ofstream(script) << "set -u\n"
                        << "W=" << shell_quote(work.string()) << "; D=$W/mnt\n"
                        << "mount -t tmpfs -o size=64m tmpfs \"$D\" || exit 77\n"
                        << cmd << " 2>\"$W/ref.err\" || exit 78\n"
                        << "cp -a \"$D/out\" \"$W/ref\" && rm -rf \"$D/out\"\n"
                        << "mount -o remount,size=" << size << " \"$D\" || exit 79\n"
                        << cmd << " 2>\"$W/fail.err\"; echo \"fail $?\" >\"$W/codes\"\n"
                        << "mkdir -p \"$D/out\" && cp -a \"$D/out\" \"$W/failed\"\n"
                        << "mount -o remount,size=64m \"$D\"\n"
                        << cmd << " 2>\"$W/ok.err\"; echo \"ok $?\" >>\"$W/codes\"\n"
                        << "cp -a \"$D/out\" \"$W/final\"\n";
  fs::create_directories(work / "mnt");
  const CliRun r = pythia::testing::run_shell("unshare -m sh " + shell_quote(script.string()) + " 2>&1");
  TmpfsOutcome o;
  if (r.code == 77 || (r.code != 0 && r.out.find("unshare") != std::string::npos)) {
    o.skipped = true;
    return o;
  }
  EXPECT_EQ(r.code, 0) << r.out << pythia::testing::read_bytes(work / "ref.err");
  std::istringstream codes(pythia::testing::read_bytes(work / "codes"));
  std::string word;
  codes >> word >> o.fail_code >> word >> o.ok_code;
  o.fail_err = pythia::testing::read_bytes(work / "fail.err");
  return o;
}

void check(const fs::path& work, const std::string& size, const std::vector<std::string>& args, int want_code) {
  SCOPED_TRACE("tmpfs size=" + size);
  fs::remove_all(work);
  fs::create_directories(work);
  const TmpfsOutcome o = run_on_tmpfs(work, size, args);
  if (o.skipped) GTEST_SKIP() << "cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN and unshare)";
  const auto ref = snapshot(work / "ref");
  ASSERT_FALSE(ref.empty());
  EXPECT_EQ(o.fail_code, want_code) << o.fail_err;
  EXPECT_NE(o.fail_err.find("No space left on device"), std::string::npos) << o.fail_err;
  EXPECT_NE(o.fail_err.find((work / "mnt" / "out").string()), std::string::npos) << "no file named: " << o.fail_err;
  EXPECT_EQ(o.fail_err.find("internal error"), std::string::npos) << o.fail_err;
  for (const auto& [rel, content] : snapshot(work / "failed")) {
    EXPECT_FALSE(pythia::data::is_atomic_temp_name(fs::path(rel).filename().string())) << "temporary left: " << rel;
    if (is_resume_state(rel)) continue;
    ASSERT_TRUE(ref.count(rel)) << "unexpected file " << rel;
    EXPECT_TRUE(ref.at(rel) == content) << rel << " is partial";
  }
  EXPECT_EQ(o.ok_code, 0) << pythia::testing::read_bytes(work / "ok.err");
  expect_same_tree(work / "final", ref);
}

class TmpfsFull : public ::testing::Test {
 protected:
  void SetUp() override { work_ = pythia::testing::fresh_temp_dir("fault_tmpfs"); }
  void TearDown() override { fs::remove_all(work_); }
  fs::path out() const { return work_ / "case" / "mnt" / "out"; }
  fs::path work_;
};

TEST_F(TmpfsFull, MemorizeRunsOutOfSpaceThenResumes) {
  const std::vector<std::string> args = {
      "memorize", "--model", (kFix / "mini-pythia").string(), "--revision", "step36", "--data",
      (kFix / "mini-pile" / "document").string(), "--sequences-per-step", "16", "--start", "0", "--end", "160",
      "--batch-size", "4", "--threads", "2", "--no-progress", "--output", out().string()};
  // One page: the journal fits, memorization_scores.csv.gz does not; two: memorization.json does not.
  for (const char* size : {"4k", "8k"}) check(work_ / "case", size, args, 3);
}

TEST_F(TmpfsFull, EvalAndSweepRunOutOfSpaceThenComplete) {
  const std::vector<std::string> eval = {
      "eval", "--model", (kFix / "pythia-tiny").string(), "--tasks", "piqa,winogrande", "--limit", "20",
      "--data-dir", (kFix / "tasks").string(), "--tokenizer", (kFix / "tokenizer" / "20B_tokenizer.json.gz").string(),
      "--log-samples", "--threads", "2", "--output", out().string()};
  check(work_ / "case", "16k", eval, 3);
  const std::vector<std::string> sweep = {
      "sweep", "--model", (kFix / "mini-pythia").string(), "--revisions", "all", "--tasks", "piqa", "--limit", "10",
      "--data-dir", (kFix / "tasks").string(), "--tokenizer", (kFix / "tokenizer" / "20B_tokenizer.json.gz").string(),
      "--memorize", "--data", (kFix / "mini-pile" / "document").string(), "--sequences-per-step", "4",
      "--batch-size", "8", "--threads", "2", "--no-progress", "--output", out().string()};
  check(work_ / "case", "24k", sweep, 1);
}

}  // namespace

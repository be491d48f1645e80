// `memorize` on a failing disk (LD_PRELOAD shim, fault_util.h): at every writer of the command
// (the journal: open, header, blocks, fdatasync; memorization_scores.csv.gz and memorization.json:
// write, fsync, close, rename, the folder's fsync; a disk filling up at several byte counts) the
// run exits 3 naming the file with the errno text, leaves no temporary and no partial finished
// file, and a re-run without the fault completes with the files of an undisturbed run.
// Also: --token-stats and --memorized-evals files, and the merge of two shards with the merge's
// writes failing.
#include <gtest/gtest.h>

#include "tests/fault/fault_util.h"

namespace {

using namespace pythia::fault_testing;

class MemorizeFault : public FaultCase {
 protected:
  MemorizeFault() : FaultCase("fault_memorize") {}

  std::vector<std::string> args(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> a = {"memorize", "--model", (kFix / "mini-pythia").string(), "--revision", "step36",
                                  "--data", (kFix / "mini-pile" / "document").string(),
                                  "--sequences-per-step", "16", "--start", "0", "--end", "160",
                                  "--batch-size", "4", "--threads", "2", "--no-progress",
                                  "--output", out_.string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

};

TEST_F(MemorizeFault, JournalWritesFailCleanlyAndTheRerunMatches) {
  const auto ref = reference(args(), out_);
  ASSERT_EQ(ref.size(), 2u);  // memorization_scores.csv.gz, memorization.json
  const std::vector<Fault> cases = {
      {"memorization.journal", "open"},
      {"memorization.journal", "write", "ENOSPC", 1},       // the header
      {"memorization.journal", "write", "ENOSPC", 7},       // a block
      {"memorization.journal", "write", "EIO", 0, 1500},    // a torn block
      {"memorization.journal", "fdatasync", "EIO", 3},
  };
  for (const Fault& f : cases) fault_then_rerun(args(), f, 3, "memorization.journal", work_, out_, ref);
}

TEST_F(MemorizeFault, OutputWritesFailCleanlyAndTheRerunMatches) {
  const auto ref = reference(args(), out_);
  const std::vector<std::pair<Fault, std::string>> cases = {
      {{"memorization_scores.csv.gz", "write"}, "memorization_scores.csv.gz"},
      {{"memorization_scores.csv.gz", "fsync", "EIO"}, "memorization_scores.csv.gz"},
      {{"memorization_scores.csv.gz", "close", "EIO"}, "memorization_scores.csv.gz"},
      {{"memorization_scores.csv.gz", "rename"}, "memorization_scores.csv.gz"},
      {{"memorization.json", "write", "ENOSPC", 0, 1000}, "memorization.json"},  // short write
      {{"memorization.json", "fsync", "EIO"}, "memorization.json"},
      {{"memorization.json", "rename", "EIO"}, "memorization.json"},
      // The folder's fsync after the first rename (the 1st folder fsync is the journal's).
      {{"/mini-pythia/step36$", "fsync", "EIO", 2}, "memorization_scores.csv.gz"},
  };
  for (const auto& [fault, names] : cases) fault_then_rerun(args(), fault, 3, names, work_, out_, ref);
}

TEST_F(MemorizeFault, DiskFillingUpAtSeveralPointsFailsCleanly) {
  // Every file of the output folder shares the space: 0 bytes (nothing can be written), inside
  // the journal's header, among its blocks, and later.
  const auto ref = reference(args(), out_);
  for (long long bytes : {0LL, 400LL, 1200LL, 2000LL, 2600LL}) {
    fault_then_rerun(args(), {out_.string() + "/", "write", "ENOSPC", 0, bytes}, 3, out_.string(), work_, out_, ref);
  }
}

TEST_F(MemorizeFault, TokenStatsAndMemorizedEvalsWritesFailCleanly) {
  // --token-stats (its own journal, memorization_token_stats.partial, then the .bin) and
  // --memorized-evals (memorized_evals.jsonl.gz).
  const std::vector<std::string> extra = {"--token-stats", "--memorized-evals"};
  const auto ref = reference(args(extra), out_);
  ASSERT_EQ(ref.size(), 4u);
  const std::vector<Fault> cases = {
      {"memorization_token_stats.partial", "open"},
      {"memorization_token_stats.partial", "write", "ENOSPC", 3},
      {"memorization_token_stats.partial", "fdatasync", "EIO", 2},
      {"memorization_token_stats.bin", "write"},
      {"memorized_evals.jsonl.gz", "rename", "EIO"},
  };
  for (const Fault& f : cases) {
    const std::string file = fs::path(f.path).filename().string();
    fault_then_rerun(args(extra), f, 3, file, work_, out_, ref);
  }
}

TEST_F(MemorizeFault, RepeatedFailuresThenResumeKeepEveryRowOnce) {
  // Several runs in a row on the same folder, each failing at another journal block (the journal
  // growing or torn each time), then one without the fault: the undisturbed run's files.
  const auto ref = reference(args(), out_);
  const fs::path journal = out_ / "mini-pythia" / "step36" / "memorization.journal";
  const fs::path log = work_ / "fault.log";
  std::uintmax_t last = 0;
  for (const Fault& f : {Fault{"memorization.journal", "write", "ENOSPC", 3},
                         Fault{"memorization.journal", "write", "EIO", 0, 1700},
                         Fault{"memorization.journal", "fdatasync", "EIO", 4},
                         Fault{"memorization.journal", "write", "ENOSPC", 2}}) {
    SCOPED_TRACE(f.describe());
    fs::remove(log);
    const CliRun r = run_harness_fault(args(), &f, log);
    expect_clean_failure(r, 3, "memorization.journal", f.err == "EIO" ? "Input/output error" : "No space left",
                         log, out_, ref);
    ASSERT_TRUE(fs::exists(journal));
    EXPECT_GE(fs::file_size(journal) + 60, last);  // at most a torn block is ever dropped
    last = fs::file_size(journal);
  }
  const CliRun r = run_harness_fault(args(), nullptr, log);
  ASSERT_EQ(r.code, 0) << r.out;
  expect_same_tree(out_, ref);
}

TEST_F(MemorizeFault, MergeFailsCleanlyAndTheRerunMatches) {
  // Two shards, then merge; the reference is the undisturbed merge.
  for (const char* shard : {"0/2", "1/2"}) {
    const CliRun r = run_harness_fault(args({"--shard", shard}), nullptr, work_ / "fault.log");
    ASSERT_EQ(r.code, 0) << r.out;
  }
  const fs::path run_dir = out_ / "mini-pythia" / "step36";
  const std::vector<std::string> merge = {"merge", run_dir.string()};
  ASSERT_EQ(run_harness_fault(merge, nullptr, work_ / "fault.log").code, 0);
  const auto ref = snapshot(out_);
  ASSERT_TRUE(ref.count("mini-pythia/step36/memorization.json"));
  ASSERT_TRUE(ref.count("mini-pythia/step36/memorization_scores.csv.gz"));
  const auto unmerge = [&] {
    fs::remove(run_dir / "memorization.json");
    fs::remove(run_dir / "memorization_scores.csv.gz");
  };
  const std::vector<std::pair<Fault, std::string>> cases = {
      {{"step36/.memorization_scores.csv.gz", "write"}, "memorization_scores.csv.gz"},
      {{"step36/.memorization_scores.csv.gz", "fsync", "EIO"}, "memorization_scores.csv.gz"},
      {{"step36/memorization_scores.csv.gz", "rename", "EIO"}, "memorization_scores.csv.gz"},
      {{"step36/.memorization.json", "write", "ENOSPC", 0, 700}, "memorization.json"},
      {{"step36/memorization.json", "rename"}, "memorization.json"},
      {{"/step36$", "fsync", "EIO"}, "memorization_scores.csv.gz"},
  };
  for (const auto& [fault, names] : cases) {
    unmerge();
    fault_then_rerun(merge, fault, 3, names, work_, out_, ref, /*keep_out=*/true);
  }
  // A failed merge over an existing merged result leaves the old files (atomic replacement).
  fault_then_rerun(merge, {"step36/.memorization.json", "write"}, 3, "memorization.json", work_, out_, ref,
                   /*keep_out=*/true);
}

}  // namespace

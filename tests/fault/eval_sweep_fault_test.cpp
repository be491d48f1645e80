// `eval`, `sweep` and `report` on a failing disk (LD_PRELOAD shim, fault_util.h): results.json,
// samples/docs files, the memorization files of a sweep's checkpoints, the sweep marker and the
// HTML report, each failing on write / fsync / close / rename / the folder's fsync, and the disk
// filling up at several byte counts. Every time: a non-zero exit (3; sweep 1, its other
// checkpoints still run), the file named with the errno text, no temporary and no partial
// finished file, and a re-run without the fault ends with the undisturbed run's files.
#include <gtest/gtest.h>

#include "tests/fault/fault_util.h"

namespace {

using namespace pythia::fault_testing;

class CommandFault : public FaultCase {
 protected:
  CommandFault() : FaultCase("fault_commands") {}

  std::vector<std::string> eval_args() const {
    return {"eval", "--model", (kFix / "pythia-tiny").string(), "--tasks", "piqa,winogrande", "--limit", "20",
            "--data-dir", (kFix / "tasks").string(), "--tokenizer",
            (kFix / "tokenizer" / "20B_tokenizer.json.gz").string(), "--log-samples", "--threads", "2",
            "--output", out_.string()};
  }
  std::vector<std::string> sweep_args() const {
    return {"sweep", "--model", (kFix / "mini-pythia").string(), "--revisions", "all", "--tasks", "piqa",
            "--limit", "10", "--data-dir", (kFix / "tasks").string(), "--tokenizer",
            (kFix / "tokenizer" / "20B_tokenizer.json.gz").string(), "--memorize", "--data",
            (kFix / "mini-pile" / "document").string(), "--sequences-per-step", "4", "--batch-size", "8",
            "--threads", "2", "--no-progress", "--output", out_.string()};
  }
};

TEST_F(CommandFault, EvalWritesFailCleanlyAndTheRerunMatches) {
  const auto ref = reference(eval_args(), out_);
  ASSERT_EQ(ref.size(), 5u);  // results.json, samples_ and docs_ of two tasks
  const std::vector<std::pair<Fault, std::string>> cases = {
      {{"results.json", "write"}, "results.json"},
      {{"results.json", "rename", "EIO"}, "results.json"},
      {{"results.json", "close", "EIO"}, "results.json"},
      {{"samples_piqa.jsonl", "write", "ENOSPC", 0, 5000}, "samples_piqa.jsonl"},
      {{"docs_winogrande.jsonl", "fsync", "EIO"}, "docs_winogrande.jsonl"},
      {{"pythia-tiny/main$", "fsync", "EIO", 3}, "samples_winogrande.jsonl"},  // the folder
  };
  for (const auto& [fault, names] : cases) fault_then_rerun(eval_args(), fault, 3, names, work_, out_, ref);
}

TEST_F(CommandFault, EvalOnAFillingDiskFailsCleanly) {
  const auto ref = reference(eval_args(), out_);
  for (long long bytes : {0LL, 15000LL, 40000LL}) {
    fault_then_rerun(eval_args(), {out_.string() + "/", "write", "ENOSPC", 0, bytes}, 3, out_.string(), work_, out_,
                     ref);
  }
}

TEST_F(CommandFault, SweepWritesFailCleanlyAndTheRerunMatches) {
  const auto ref = reference(sweep_args(), out_);
  ASSERT_EQ(ref.size(), 12u);  // 3 checkpoints x results.json, memorization x2, sweep_complete.json
  const std::vector<std::pair<Fault, std::string>> cases = {
      {{"step1/.results.json", "write"}, "step1/results.json"},
      {{"step12/memorization.journal", "write", "ENOSPC", 2}, "step12/memorization.journal"},
      {{"step12/.memorization_scores.csv.gz", "fsync", "EIO"}, "step12/memorization_scores.csv.gz"},
      {{"step36/.sweep_complete.json", "write"}, "step36/sweep_complete.json"},
      {{"step12/sweep_complete.json", "rename", "EIO"}, "step12/sweep_complete.json"},
      {{"/mini-pythia/step36$", "fsync", "EIO"}, "step36/results.json"},
  };
  // A sweep reports a failing checkpoint, runs the others, and exits 1.
  for (const auto& [fault, names] : cases) fault_then_rerun(sweep_args(), fault, 1, names, work_, out_, ref);
}

TEST_F(CommandFault, SweepOnAFillingDiskFailsCleanly) {
  const auto ref = reference(sweep_args(), out_);
  for (long long bytes : {3000LL, 9000LL, 16000LL}) {
    fault_then_rerun(sweep_args(), {out_.string() + "/", "write", "ENOSPC", 0, bytes}, 1, "No space left", work_,
                     out_, ref);
  }
}

TEST_F(CommandFault, ReportWriteFailsCleanlyAndTheRerunMatches) {
  // The tree to report on: a sweep's (kept); the report goes to its own folder.
  ASSERT_EQ(run_harness_fault(sweep_args(), nullptr, work_ / "fault.log").code, 0);
  const fs::path rep = work_ / "rep";
  const std::vector<std::string> report = {"report", out_.string(), "--output", (rep / "report.html").string()};
  const auto ref = reference(report, rep);
  ASSERT_EQ(ref.size(), 1u);
  const std::vector<Fault> cases = {
      {"report.html", "write"},
      {"report.html", "write", "ENOSPC", 0, 20000},
      {"report.html", "fsync", "EIO"},
      {"report.html", "rename", "EIO"},
  };
  for (const Fault& f : cases) fault_then_rerun(report, f, 3, "report.html", work_, rep, ref);
  // A failing report over an existing one leaves the old file whole.
  fault_then_rerun(report, {"report.html", "write", "ENOSPC", 0, 1000}, 3, "report.html", work_, rep, ref,
                   /*keep_out=*/true);
}

}  // namespace

// harness/sweep.h driver: markers, skipping complete checkpoints, resuming after a failure,
// reporting a failing checkpoint while the others run, --revisions parsing. Stub jobs, no model.
#include "harness/sweep.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "data/error.h"
#include "results/results_reader.h"

namespace pythia::harness {
namespace {

namespace fs = std::filesystem;

struct Fixture {
  fs::path dir;
  std::vector<std::string> loaded, ran;
  std::string fail_on;  // revision whose job throws
  SweepPlan plan;
  explicit Fixture(const std::string& name) {
    dir = fs::temp_directory_path() / ("pythia_sweep_driver_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    plan.model_name = "mini";
    plan.revisions = {"step1", "step12", "step36"};
    plan.output = dir;
    plan.signature = {{"tasks", "piqa"}, {"limit", 10}};
    plan.show_progress = false;
    plan.load = [this](const std::string& rev) {
      loaded.push_back(rev);
      SweepCheckpoint c;
      c.model_name = "mini";
      c.revision = rev;
      return c;
    };
    plan.jobs.push_back({"write", [this](const SweepCheckpoint& c) {
                           if (c.revision == fail_on) throw DataError("x.bin", "broken for " + c.revision);
                           ran.push_back(c.revision);
                           std::ofstream(checkpoint_dir(plan, c.revision) / "out.txt") << c.revision;
                         }});
    // The first job writes into the folder: create it as real jobs do.
    plan.jobs.insert(plan.jobs.begin(), {"mkdir", [this](const SweepCheckpoint& c) {
                                           fs::create_directories(checkpoint_dir(plan, c.revision));
                                         }});
  }
  ~Fixture() { fs::remove_all(dir); }
};

TEST(SweepDriver, RunsEveryCheckpointOnceAndWritesMarkersLast) {
  Fixture f("all");
  const SweepReport r = run_sweep(f.plan);
  EXPECT_EQ(r.completed, f.plan.revisions);
  EXPECT_TRUE(r.failed.empty());
  EXPECT_EQ(f.loaded, f.plan.revisions);  // one load per checkpoint, shared by the jobs
  for (const auto& rev : f.plan.revisions) {
    EXPECT_TRUE(checkpoint_complete(f.plan, rev)) << rev;
    const auto j = results::read_json_file(checkpoint_dir(f.plan, rev) / kSweepMarker);
    EXPECT_EQ(j["signature"], f.plan.signature);
  }
  // A second run skips everything.
  f.loaded.clear();
  const SweepReport again = run_sweep(f.plan);
  EXPECT_EQ(again.skipped, f.plan.revisions);
  EXPECT_TRUE(f.loaded.empty());
  // Another signature redoes them.
  f.plan.signature["limit"] = 20;
  const SweepReport redo = run_sweep(f.plan);
  EXPECT_EQ(redo.completed, f.plan.revisions);
}

TEST(SweepDriver, FailingCheckpointIsReportedOthersRunThenResume) {
  Fixture f("fail");
  f.fail_on = "step12";
  const SweepReport r = run_sweep(f.plan);
  EXPECT_EQ(r.completed, (std::vector<std::string>{"step1", "step36"}));
  ASSERT_EQ(r.failed, (std::vector<std::string>{"step12"}));
  EXPECT_NE(r.errors[0].find("x.bin"), std::string::npos);
  EXPECT_FALSE(checkpoint_complete(f.plan, "step12"));
  EXPECT_FALSE(fs::exists(checkpoint_dir(f.plan, "step12") / kSweepMarker));
  // Fixed, re-run: only the failed checkpoint is loaded again.
  f.fail_on.clear();
  f.loaded.clear();
  const SweepReport again = run_sweep(f.plan);
  EXPECT_EQ(again.completed, (std::vector<std::string>{"step12"}));
  EXPECT_EQ(again.skipped, (std::vector<std::string>{"step1", "step36"}));
  EXPECT_EQ(f.loaded, (std::vector<std::string>{"step12"}));
}

TEST(SweepDriver, CorruptMarkerMeansNotComplete) {
  Fixture f("corrupt");
  run_sweep(f.plan);
  std::ofstream(checkpoint_dir(f.plan, "step12") / kSweepMarker) << "{\"complete\": tr";
  EXPECT_FALSE(checkpoint_complete(f.plan, "step12"));
  f.loaded.clear();
  run_sweep(f.plan);
  EXPECT_EQ(f.loaded, (std::vector<std::string>{"step12"}));
}

TEST(SweepRevisions, Parse) {
  const std::vector<std::string> avail = {"step0", "step1", "step12"};
  EXPECT_EQ(parse_revision_list("all", avail), avail);
  EXPECT_EQ(parse_revision_list("step12, step0,step12", avail),
            (std::vector<std::string>{"step12", "step0"}));
  EXPECT_THROW(parse_revision_list("step5", avail), UsageError);
  EXPECT_THROW(parse_revision_list("all", {}), UsageError);
  EXPECT_THROW(parse_revision_list(",", avail), UsageError);
  EXPECT_EQ(parse_revision_list("main", {}), (std::vector<std::string>{"main"}));
}

}  // namespace
}  // namespace pythia::harness

// The demo suite end to end, as `harness/quickstart.sh` runs it by default: memorize sweep over
// tests/fixtures/demo-pythia, dedup-count, analyze --dedup-counts, report. Checks the properties the
// suite exists to show: memorization does not fall with training, the last checkpoint memorizes
// something, and the most duplicated rows are memorized at a higher rate than the unique ones.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/gzip_stream.h"
#include "tests/test_util.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TEST(DemoSuite, MemorizationRisesWithStepsAndDuplication) {
  const fs::path d = pythia::testing::fresh_temp_dir("demo_suite");
  const std::string fx = PYTHIA_FIXTURES_DIR;
  auto r = pythia::testing::run_harness("sweep --model " + fx + "/demo-pythia --revisions all --no-eval --memorize --data " +
                                        fx + "/mini-pile/document --sequences-per-step 16 --threads 2 --output " + d.string());
  ASSERT_EQ(r.code, 0) << r.out;
  r = pythia::testing::run_harness("dedup-count --no-progress --data " + fx + "/mini-pile/document --output " + (d / "dedup").string());
  ASSERT_EQ(r.code, 0) << r.out;
  r = pythia::testing::run_harness("analyze " + d.string() + " --output " + (d / "analysis.json").string() +
                                   " --dedup-counts " + (d / "dedup" / "dedup_counts.csv.gz").string());
  ASSERT_EQ(r.code, 0) << r.out;
  const json a = json::parse(pythia::data::read_whole_file(d / "analysis.json"));
  const json& traj = a["groups"][0]["trajectory"]["demo-pythia"];
  ASSERT_EQ(traj.size(), 4u);
  for (std::size_t i = 1; i < traj.size(); ++i) EXPECT_GE(traj[i]["memorized"], traj[i - 1]["memorized"]);
  EXPECT_GT(traj.back()["memorized"].get<int>(), 0);
  const json& last = a["groups"][0]["checkpoints"].back()["by_duplicates"];
  ASSERT_GE(last.size(), 2u);
  EXPECT_EQ(last.front()["count_max"], 1);
  EXPECT_GT(last[last.size() - 1]["rate"].is_number() ? last[last.size() - 1]["rate"].get<double>() : 0.0,
            last.front()["rate"].get<double>());
  r = pythia::testing::run_harness("report " + d.string() + " --output " + (d / "report.html").string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(pythia::data::read_whole_file(d / "report.html").find("analysis-heatmap"), std::string::npos);
  fs::remove_all(d);
}

}  // namespace

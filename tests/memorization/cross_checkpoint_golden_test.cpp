// memorization/cross_checkpoint.h against the brute-force Python reference
// (tests/reference/cross_checkpoint_reference.py, Python sets) on the synthetic sweep tree
// tests/fixtures/analysis-tree (tests/reference/make_analysis_tree.py): identical documents for
// every block size and thread count; the `analyze` command writes the same document.
#include "memorization/cross_checkpoint.h"

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <filesystem>
#include <fstream>

#include "data/error.h"
#include "data/gzip_stream.h"
#include "tests/test_util.h"

namespace pythia::memorization {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kTree = fs::path(PYTHIA_FIXTURES_DIR) / "analysis-tree";
const fs::path kGolden = fs::path(PYTHIA_FIXTURES_DIR) / "golden" / "analysis";

json golden(const std::string& name) { return json::parse(data::read_whole_file(kGolden / name)); }

// Round-trips through text so both sides are plain json (number types normalised).
json as_json(const nlohmann::ordered_json& j) { return json::parse(j.dump()); }

TEST(CrossCheckpointGolden, WholeTreeEqualsBruteForceForEveryBlockSizeAndThreadCount) {
  const json want = golden("analysis-tree.json");
  for (const std::uint64_t block : {64ull, 128ull, 1024ull, 1ull << 20}) {
    for (const int threads : {1, 2}) {
      tbb::global_control c(tbb::global_control::max_allowed_parallelism, threads);
      AnalysisOptions opt;
      opt.block_rows = block;
      opt.progress = false;
      EXPECT_EQ(as_json(analyze_tree(kTree, opt)), want) << "block " << block << " threads " << threads;
    }
  }
}

TEST(CrossCheckpointGolden, MemorizationByDuplicateCountEqualsBruteForce) {
  const json want = golden("analysis-tree-dedup.json");
  for (const std::uint64_t block : {64ull, 320ull, 1ull << 20}) {
    AnalysisOptions opt;
    opt.block_rows = block;
    opt.progress = false;
    opt.dedup_counts = kTree / "dedup" / "dedup_counts.csv.gz";
    EXPECT_EQ(as_json(analyze_tree(kTree, opt)), want) << "block " << block;
  }
}

TEST(CrossCheckpointGolden, BadDuplicateCountsNameTheFile) {
  const fs::path d = testing::fresh_temp_dir("cross_checkpoint_baddedup");
  for (const char* text : {"0,2\n1,0\n", "0,2\n1,1.5\n", "3,2\n1,1\n"}) {
    {
      std::ofstream f(d / "c.csv");
      f << text;
    }
    AnalysisOptions opt;
    opt.progress = false;
    opt.dedup_counts = d / "c.csv";
    try {
      analyze_tree(kTree / "model-a", opt);
      ADD_FAILURE() << "accepted " << text;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("c.csv"), std::string::npos) << e.what();
    }
  }
  fs::remove_all(d);
}

TEST(CrossCheckpointGolden, MinScoreHalfEqualsBruteForce) {
  AnalysisOptions opt;
  opt.min_score = 0.5;
  opt.block_rows = 192;
  opt.progress = false;
  EXPECT_EQ(as_json(analyze_tree(kTree / "model-a", opt)), golden("model-a-min0.5.json"));
}

TEST(CrossCheckpointGolden, ShardFoldersSkippedGroupsByDataHash) {
  const auto scans = find_scans(kTree);
  ASSERT_EQ(scans.size(), 11u);
  for (const auto& s : scans) EXPECT_EQ(s.folder.find("shard-"), std::string::npos) << s.folder;
  EXPECT_EQ(scans.front().folder, "model-a/step1");
  EXPECT_EQ(scans.back().folder, "model-c/step4");
  EXPECT_TRUE(scans.back().scores_path.empty());  // --memorized-only scan: from memorized_indices
}

TEST(CrossCheckpointGolden, MemorizedOnlyScanRefusesOtherThresholds) {
  AnalysisOptions opt;
  opt.min_score = 0.5;
  opt.progress = false;
  try {
    analyze_tree(kTree / "model-c", opt);
    FAIL() << "accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("model-c/step4/memorization.json"), std::string::npos) << e.what();
  }
}

TEST(CrossCheckpointGolden, EmptyTreeIsADataError) {
  const fs::path d = testing::fresh_temp_dir("cross_checkpoint_empty");
  AnalysisOptions opt;
  EXPECT_THROW(analyze_tree(d, opt), DataError);
  EXPECT_THROW(analyze_tree(d / "missing", opt), DataError);
  fs::remove_all(d);
}

TEST(CrossCheckpointGolden, CommandWritesTheSameDocument) {
  const fs::path d = testing::fresh_temp_dir("cross_checkpoint_cli");
  const auto r = testing::run_harness("analyze " + kTree.string() + " --output " + (d / "a.json").string() +
                                      " --threads 2 --block-rows 128");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("11 scans in 2 data group(s), 37 pairs"), std::string::npos) << r.out;
  EXPECT_EQ(json::parse(data::read_whole_file(d / "a.json")), golden("analysis-tree.json"));
  EXPECT_EQ(testing::run_harness("analyze " + kTree.string() + " --output x --block-rows 100").code, 2);
  EXPECT_EQ(testing::run_harness("analyze " + kTree.string()).code, 2);
  EXPECT_EQ(testing::run_harness("analyze " + (d / "nothing").string() + " --output x").code, 3);
  fs::remove_all(d);
}

}  // namespace
}  // namespace pythia::memorization

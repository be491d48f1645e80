// memorized_evals: the published layout's lines (index, tokens, __index_level_0__) round trip,
// malformed lines are errors naming file:line, set comparison counts; and end to end: `memorize
// --memorized-evals` writes the memorized rows with the memmap's first 64 tokens, and `compare
// THEIRS.jsonl OURS` prints the counts.
#include "results/memorized_evals.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/indexed_dataset.h"
#include "results/eval_results.h"
#include "results/memorization_file.h"
#include "tests/test_util.h"

namespace {

namespace fs = std::filesystem;
using namespace pythia::results;
const fs::path kFix = PYTHIA_FIXTURES_DIR;

TEST(MemorizedEvals, RoundTripAndLayout) {
  const fs::path d = pythia::testing::fresh_temp_dir("memorized_evals_test");
  std::vector<MemorizedEvalRow> rows = {{3, {1, 2, 3}}, {17, {4, 5, 6}}};
  write_memorized_evals(d / kMemorizedEvalsFile, rows);
  const auto back = read_memorized_evals(d / kMemorizedEvalsFile);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].index, 17);
  EXPECT_EQ(back[1].tokens, (std::vector<std::int64_t>{4, 5, 6}));
  EXPECT_EQ(memorized_evals_line(rows[0]), "{\"index\": 3, \"tokens\": [1, 2, 3], \"__index_level_0__\": 3}\n");
  std::ofstream(d / "bad.jsonl") << "{\"index\": 1}\n{\"index\": 2, \"__index_level_0__\": 5}\n";
  try {
    read_memorized_evals(d / "bad.jsonl");
    FAIL();
  } catch (const ResultsFileError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:2"), std::string::npos) << e.what();
  }
  std::ofstream(d / "bad2.jsonl") << "{\"tokens\": []}\n";
  EXPECT_THROW(read_memorized_evals(d / "bad2.jsonl"), ResultsFileError);
  fs::remove_all(d);
}

TEST(MemorizedEvals, SetComparison) {
  const auto c = compare_memorized_sets({1, 2, 3, 5, 5}, {2, 3, 4, 6, 7, 7});
  EXPECT_EQ(c.ours, 4u);  // duplicates count once
  EXPECT_EQ(c.theirs, 5u);  // 2 3 4 6 7
  EXPECT_EQ(c.both, 2u);
  EXPECT_EQ(c.only_ours, 2u);
  EXPECT_EQ(c.only_theirs, 3u);
  EXPECT_EQ(c.only_ours_sample, (std::vector<std::int64_t>{1, 5}));
  EXPECT_EQ(c.only_theirs_sample, (std::vector<std::int64_t>{4, 6, 7}));
  EXPECT_DOUBLE_EQ(c.precision(), 0.5);
  EXPECT_DOUBLE_EQ(c.recall(), 0.4);
}

// mini-pythia memorizes nothing of the natural rows, so the end-to-end run scans the probe memmap
// (tests/fixtures/mini-pile-probe: rows the step36 checkpoint memorizes, 32 of them per the golden
// shared/golden/mini-pythia/probe_memorization_step36.csv); every memorized row must appear with
// its first 64 memmap tokens.
TEST(MemorizedEvals, MemorizeWritesThemAndCompareCountsThem) {
  const fs::path root = pythia::testing::fresh_temp_dir("memorized_evals_cli");
  const auto r = pythia::testing::run_harness(
      "memorize --model " + (kFix / "mini-pythia").string() + " --revision step36 --data " +
      (kFix / "mini-pile-probe" / "document").string() + " --start 0 --end 40 --memorized-only --memorized-evals "
      "--hash-cache none --output " + (root / "out").string());
  ASSERT_EQ(r.code, 0) << r.out;
  const fs::path dir = root / "out" / "mini-pythia" / "step36";
  const auto ours = read_memorized_evals(dir / kMemorizedEvalsFile);
  const auto mem = read_memorization(dir / kMemorizationJson);
  ASSERT_EQ(ours.size(), mem.memorized_indices.size());
  ASSERT_GT(ours.size(), 0u);
  const pythia::data::IndexedDataset ds(kFix / "mini-pile-probe" / "document");
  for (std::size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i].index, mem.memorized_indices[i]);
    std::vector<std::int32_t> w(64);
    ds.read_tokens(static_cast<std::uint64_t>(ours[i].index), w);
    EXPECT_EQ(ours[i].tokens, std::vector<std::int64_t>(w.begin(), w.end()));
  }
  // A "published" file: one row we have (if any), two we do not.
  std::vector<MemorizedEvalRow> theirs = {ours.front(), {1000001, {}}, {1000002, {}}};
  {
    std::ofstream out(root / "theirs.jsonl");
    for (const auto& row : theirs) out << memorized_evals_line(row);
  }
  const auto c = pythia::testing::run_harness("compare " + (root / "theirs.jsonl").string() + " " + dir.string());
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_NE(c.out.find("theirs       " + std::to_string(theirs.size())), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("ours         " + std::to_string(ours.size())), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("both         1"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("only theirs  2"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("1000001 1000002"), std::string::npos) << c.out;
  fs::remove_all(root);
}

}  // namespace

// `pythia-harness compare` (results/compare.h + harness/cmd_compare.cpp): exit codes and the table
// on identical and modified copies of real lm-eval v0.4 files and of memorization outputs.
#include "results/compare.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "results/eval_results.h"
#include "tests/test_util.h"

namespace pythia::results {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kFixtures = fs::path(PYTHIA_FIXTURES_DIR) / "results";

using pythia::testing::CliRun;
using pythia::testing::run_harness;

fs::path temp_dir(const std::string& name) {
  return pythia::testing::fresh_temp_dir("pythia_compare_test_" + name);
}

// A tree: two checkpoints with eval results + a memorization result with per-row scores.
void make_tree(const fs::path& root) {
  for (const char* step : {"step1", "step12"}) {
    const fs::path d = root / "mini-pythia" / step;
    fs::create_directories(d);
    fs::copy_file(kFixtures / "lm-eval" / "mini-pythia-step36.results.json", d / "results.json");
    json hist = json::array();
    for (int k = 0; k <= 32; ++k) hist.push_back(k == 2 ? 3 : (k == 32 ? 1 : 0));
    write_json_atomic(d / "memorization.json",
                      {{"model", "mini-pythia"}, {"revision", step}, {"row_range", {0, 4}},
                       {"rows_scanned", 4}, {"rows_memorized", 1}, {"mean_score", 0.296875},
                       {"histogram", hist}, {"memorized_indices", {3}}});
    std::ofstream(d / "memorization_scores.csv") << "0,0.0625\n1,0.0625\n2,0.0625\n3,1.0\n";
  }
}

TEST(CompareCli, IdenticalFilesAndTreesExitZero) {
  const std::string f = (kFixtures / "lm-eval" / "pythia-tiny.results.json").string();
  CliRun r = run_harness("compare " + f + " " + f);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("0 out of tolerance"), std::string::npos) << r.out;

  const fs::path a = temp_dir("ida"), b = temp_dir("idb");
  make_tree(a);
  make_tree(b);
  r = run_harness("compare " + a.string() + " " + b.string());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("mini-pythia/step12"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("score_rows_changed"), std::string::npos) << r.out;
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(CompareCli, OurV04WriterAgainstLmEvalFileIsWithinTolerance) {
  const fs::path dir = temp_dir("ours");
  const EvalFile f = read_eval_results(kFixtures / "lm-eval" / "neox-variant.results.json");
  write_json_atomic(dir / "ours.json", to_lm_eval_v04(f.run));
  write_json_atomic(dir / "ours_v03.json", to_pythia_v0(f.run));
  CliRun r = run_harness("compare " + (kFixtures / "lm-eval" / "neox-variant.results.json").string() +
                      " " + (dir / "ours.json").string());
  EXPECT_EQ(r.code, 0) << r.out;
  r = run_harness("compare " + (kFixtures / "lm-eval" / "neox-variant.results.json").string() +
                  " " + (dir / "ours_v03.json").string());
  EXPECT_EQ(r.code, 0) << r.out;  // v0.3 names map back (ppl -> perplexity)
  fs::remove_all(dir);
}

TEST(CompareCli, OneMetricBeyondToleranceExitsOneWithReadableTable) {
  const fs::path a = temp_dir("ra"), b = temp_dir("rb");
  make_tree(a);
  make_tree(b);
  const fs::path target = b / "mini-pythia" / "step12" / "results.json";
  json j = read_json_file(target);
  const double acc = j["results"]["piqa"]["acc,none"].get<double>();
  j["results"]["piqa"]["acc,none"] = acc + 0.05;  // 2 x stderr is ~0.023
  write_json_atomic(target, j);
  CliRun r = run_harness("compare " + a.string() + " " + b.string());
  EXPECT_EQ(r.code, 1) << r.out;
  bool found = false;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("REGRESSION") == std::string::npos) continue;
    EXPECT_NE(line.find("mini-pythia/step12"), std::string::npos) << line;
    EXPECT_NE(line.find("piqa"), std::string::npos) << line;
    EXPECT_NE(line.find("acc"), std::string::npos) << line;
    EXPECT_EQ(line.find("acc_norm"), std::string::npos) << line;
    found = true;
  }
  EXPECT_TRUE(found) << r.out;
  EXPECT_NE(r.out.find("1 out of tolerance"), std::string::npos) << r.out;
  // A per-metric override makes it pass.
  r = run_harness("compare " + a.string() + " " + b.string() + " -t piqa/acc=abs:0.06");
  EXPECT_EQ(r.code, 0) << r.out;
  // One-sided: an improvement is not a regression.
  r = run_harness("compare " + a.string() + " " + b.string() + " --one-sided");
  EXPECT_EQ(r.code, 0) << r.out;
  r = run_harness("compare " + b.string() + " " + a.string() + " --one-sided");
  EXPECT_EQ(r.code, 1) << r.out;
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(CompareCli, MemorizationChangesAndMissingFolders) {
  const fs::path a = temp_dir("ma"), b = temp_dir("mb");
  make_tree(a);
  make_tree(b);
  std::ofstream(b / "mini-pythia" / "step1" / "memorization_scores.csv")
      << "0,0.0625\n1,0.09375\n2,0.0625\n3,1.0\n";
  CliRun r = run_harness("compare " + a.string() + " " + b.string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("rows whose score changed: 1"), std::string::npos) << r.out;
  r = run_harness("compare " + a.string() + " " + b.string() + " --max-changed-rows 1");
  EXPECT_EQ(r.code, 0) << r.out;
  fs::remove_all(b / "mini-pythia" / "step12");
  r = run_harness("compare " + a.string() + " " + b.string() + " --max-changed-rows 1");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("MISSING"), std::string::npos) << r.out;
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(CompareCli, LmEvalFileAgainstATreeWithOneCheckpoint) {
  const fs::path t = temp_dir("filetree");
  make_tree(t);
  fs::remove_all(t / "mini-pythia" / "step1");
  const std::string f = (kFixtures / "lm-eval" / "mini-pythia-step36.results.json").string();
  CliRun r = run_harness("compare " + f + " " + t.string());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("25 values compared: 25 ok"), std::string::npos) << r.out;
  r = run_harness("compare " + (kFixtures / "lm-eval" / "pythia-tiny.results.json").string() + " " + t.string());
  EXPECT_EQ(r.code, 1) << r.out;  // another model's numbers
  fs::remove_all(t);
}

TEST(CompareCli, UsageAndUnreadable) {
  EXPECT_EQ(run_harness("compare onlyone").code, 2);
  EXPECT_EQ(run_harness("compare a b -t acc=bogus:1").code, 2);
  const std::string f = (kFixtures / "lm-eval" / "pythia-tiny.results.json").string();
  CliRun r = run_harness("compare /nonexistent/x.json " + f);
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/x.json"), std::string::npos) << r.out;
  r = run_harness("compare --help");
  EXPECT_EQ(r.code, 0);
  for (const char* flag : {"--abs", "--rel", "--stderr-factor", "--stderr-rel", "--tolerance",
                           "--one-sided", "--max-changed-rows", "--mean-score-abs",
                           "--no-stderr-check", "--no-scores", "--only-problems"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
}

TEST(ToleranceRule, Parse) {
  EXPECT_EQ(parse_tolerance_rule("abs:0.5").kind, ToleranceRule::Kind::kAbs);
  EXPECT_EQ(parse_tolerance_rule("rel:1e-3").value, 1e-3);
  EXPECT_EQ(parse_tolerance_rule("stderr:3").kind, ToleranceRule::Kind::kStderr);
  EXPECT_THROW(parse_tolerance_rule("abs"), std::invalid_argument);
  EXPECT_THROW(parse_tolerance_rule("abs:-1"), std::invalid_argument);
  EXPECT_THROW(parse_tolerance_rule("abs:1x"), std::invalid_argument);
  EXPECT_THROW(parse_tolerance_rule("foo:1"), std::invalid_argument);
}

}  // namespace
}  // namespace pythia::results

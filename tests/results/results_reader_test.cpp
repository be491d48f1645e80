// results/results_reader.h on real lm-eval v0.4 files, a Pythia v0.3-layout file, memorization
// outputs and trees.
#include "data/checkpoint_step.h"
#include "results/results_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

namespace pythia::results {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kFixtures = fs::path(PYTHIA_FIXTURES_DIR) / "results";

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() /
               ("pythia_reader_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

const MetricValue* find(const EvalFile& f, const std::string& task, const std::string& metric) {
  for (const auto& t : f.run.tasks) {
    if (t.task != task) continue;
    for (const auto& m : t.metrics) {
      if (m.name == metric) return &m;
    }
  }
  return nullptr;
}

TEST(ReadEvalResults, RealLmEvalV04File) {
  const EvalFile f = read_eval_results(kFixtures / "lm-eval" / "pythia-tiny.results.json");
  EXPECT_EQ(f.layout, EvalLayout::kLmEvalV04);
  ASSERT_EQ(f.run.tasks.size(), 7u);
  const MetricValue* ppl = find(f, "lambada_openai", "perplexity");
  ASSERT_NE(ppl, nullptr);
  EXPECT_EQ(ppl->value, 16585875.417095345);
  EXPECT_EQ(ppl->stderr_value.value_or(-1), 1856979.072486729);
  EXPECT_FALSE(ppl->higher_is_better);
  const MetricValue* acc = find(f, "piqa", "acc_norm");
  ASSERT_NE(acc, nullptr);
  EXPECT_EQ(acc->value, 0.5212187159956474);
  EXPECT_EQ(acc->stderr_value.value_or(-1), 0.01165531473228886);
  EXPECT_TRUE(acc->higher_is_better);
  const MetricValue* wpp = find(f, "wikitext", "word_perplexity");
  ASSERT_NE(wpp, nullptr);
  EXPECT_FALSE(wpp->stderr_value.has_value());  // "N/A"
  for (const auto& t : f.run.tasks) {
    if (t.task == "winogrande") {
      EXPECT_EQ(t.n_original, 1267);
      EXPECT_EQ(t.n_effective, 1267);
      EXPECT_EQ(t.version, 1.0);
      EXPECT_EQ(t.metrics.size(), 1u);
    }
    if (t.task == "wikitext") {
      EXPECT_EQ(t.version, 2.0);
      EXPECT_EQ(t.metrics.size(), 3u);
    }
  }
  EXPECT_EQ(f.run.config["bootstrap_iters"], 100000);
}

TEST(ReadEvalResults, PythiaV03File) {
  const EvalFile f = read_eval_results(kFixtures / "pythia-v0" / "70m-deduped_step143000.subset.json");
  EXPECT_EQ(f.layout, EvalLayout::kPythiaV03);
  const MetricValue* ppl = find(f, "lambada_openai", "perplexity");
  ASSERT_NE(ppl, nullptr);
  EXPECT_EQ(ppl->value, 138.4502170368589);
  EXPECT_EQ(ppl->stderr_value.value_or(-1), 5.923841839142499);
  EXPECT_EQ(find(f, "lambada_openai", "ppl"), nullptr);
  const MetricValue* sciq = find(f, "sciq", "acc");
  ASSERT_NE(sciq, nullptr);
  EXPECT_EQ(sciq->value, 0.606);
  EXPECT_FALSE(sciq->stderr_value.has_value());
  EXPECT_EQ(revision_of_eval(f, "x/y"), "step143000");
}

TEST(ReadEvalResults, BadFilesNameTheFile) {
  const fs::path dir = temp_dir("bad");
  std::ofstream(dir / "broken.json") << "{\"results\": ";
  std::ofstream(dir / "other.json") << "{\"hello\": 1}";
  for (const char* n : {"broken.json", "other.json", "absent.json"}) {
    try {
      read_eval_results(dir / n);
      FAIL() << n;
    } catch (const ResultsFileError& e) {
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
    }
  }
  fs::remove_all(dir);
}

TEST(StepOfRevision, Forms) {
  EXPECT_EQ(pythia::data::step_of_revision("step0").value_or(-1), 0);
  EXPECT_EQ(pythia::data::step_of_revision("step143000").value_or(-1), 143000);
  EXPECT_EQ(pythia::data::step_of_revision("global_step71500").value_or(-1), 71500);
  EXPECT_FALSE(pythia::data::step_of_revision("main").has_value());
  EXPECT_FALSE(pythia::data::step_of_revision("step").has_value());
  EXPECT_FALSE(pythia::data::step_of_revision("step12a").has_value());
}

TEST(ReadMemorization, JsonScoresAndTree) {
  const fs::path dir = temp_dir("memo");
  const fs::path run = dir / "mini-pythia" / "step12";
  fs::create_directories(run);
  json hist = json::array();
  for (int k = 0; k <= 32; ++k) hist.push_back(k == 2 ? 190 : (k == 32 ? 2 : 0));
  json j = {{"model", "mini-pythia"}, {"revision", "step12"}, {"step", 12},
            {"row_range", {0, 192}}, {"rows_scanned", 192}, {"rows_memorized", 2},
            {"mean_score", 0.0725}, {"histogram", hist}, {"memorized_indices", {94, 7}},
            {"data", {{"prefix", "tests/fixtures/mini-pile/document"}}}};
  std::ofstream(run / "memorization.json") << j.dump(2);
  {
    gzFile gz = gzopen((run / "memorization_scores.csv.gz").c_str(), "wb");
    const std::string text = "0,0.0625\n1,0.0\n7,1.0\n94,1.0";
    gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
    gzclose(gz);
  }
  const ResultTree tree = read_result_tree(dir);
  ASSERT_EQ(tree.memorizations.size(), 1u);
  ASSERT_EQ(tree.evals.size(), 0u);
  const MemorizationResult& m = tree.memorizations.at("mini-pythia/step12");
  EXPECT_EQ(m.model, "mini-pythia");
  EXPECT_EQ(m.step.value_or(-1), 12);
  EXPECT_EQ(m.row_begin, 0);
  EXPECT_EQ(m.row_end, 192);
  EXPECT_EQ(m.rows_scanned, 192);
  EXPECT_EQ(m.rows_memorized, 2);
  EXPECT_EQ(m.histogram.size(), 33u);
  EXPECT_EQ(m.memorized_indices, (std::vector<std::int64_t>{7, 94}));
  EXPECT_EQ(m.data_prefix, "tests/fixtures/mini-pile/document");
  ASSERT_FALSE(m.scores_path.empty());
  const auto scores = read_memorization_scores(m.scores_path);
  ASSERT_EQ(scores.size(), 4u);
  EXPECT_EQ(scores[0], (std::pair<std::int64_t, double>{0, 0.0625}));
  EXPECT_EQ(scores[3], (std::pair<std::int64_t, double>{94, 1.0}));

  std::ofstream(dir / "bad.csv") << "0,0.5\nx,1\n";
  try {
    read_memorization_scores(dir / "bad.csv");
    FAIL();
  } catch (const ResultsFileError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:2"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

// The files `pythia-harness sweep` really writes (the committed baseline tree, results/baseline).
TEST(ReadMemorization, RealHarnessOutputInBaselineTree) {
  const fs::path base = fs::path(PYTHIA_SOURCE_DIR) / "results" / "baseline";
  const ResultTree tree = read_result_tree(base);
  ASSERT_EQ(tree.memorizations.size(), 3u);
  ASSERT_EQ(tree.evals.size(), 3u);
  const MemorizationResult& m = tree.memorizations.at("mini-pythia/step12");
  EXPECT_EQ(m.model, "mini-pythia");
  EXPECT_EQ(m.revision, "step12");
  EXPECT_EQ(m.step.value_or(-1), 12);
  EXPECT_EQ(m.row_begin, 0);
  EXPECT_EQ(m.row_end, 192);
  EXPECT_EQ(m.rows_scanned, 192);
  EXPECT_EQ(m.rows_memorized, 0);
  EXPECT_EQ(m.histogram.size(), 33u);
  EXPECT_NEAR(m.mean_score.value_or(-1), 0.06656901041666667, 1e-15);
  EXPECT_EQ(m.data_prefix.substr(m.data_prefix.size() - 18), "mini-pile/document");
  ASSERT_EQ(m.scores_path.filename(), "memorization_scores.csv.gz");
  // Per-row scores equal the reference CSV of eval_memorization.py's procedure.
  const auto ours = read_memorization_scores(m.scores_path);
  const auto ref = read_memorization_scores(kFixtures / "mini-pythia-memorization" / "memorization_step12.csv");
  EXPECT_EQ(ours, ref);
  EXPECT_EQ(tree.evals.at("mini-pythia/step36").run.tasks.size(), 7u);
  EXPECT_EQ(revision_of_eval(tree.evals.at("mini-pythia/step36"), "mini-pythia/step36"), "step36");
}

TEST(ReadResultTree, EvalFilesNewestWins) {
  const fs::path dir = temp_dir("tree");
  fs::create_directories(dir / "m" / "step1");
  fs::copy_file(kFixtures / "lm-eval" / "pythia-tiny.results.json",
                dir / "m" / "step1" / "results_2024-01-01T00-00-00.json");
  fs::copy_file(kFixtures / "lm-eval" / "neox-variant.results.json",
                dir / "m" / "step1" / "results_2025-01-01T00-00-00.json");
  std::ofstream(dir / "m" / "step1" / "done.json") << "{\"complete\": true}";
  const ResultTree tree = read_result_tree(dir);
  ASSERT_EQ(tree.evals.size(), 1u);
  EXPECT_EQ(tree.evals.begin()->first, "m/step1");
  EXPECT_EQ(tree.evals.begin()->second.path.filename(), "results_2025-01-01T00-00-00.json");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pythia::results

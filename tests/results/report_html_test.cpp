// `pythia-harness report` on a tree made of the reference memorization outputs of mini-pythia
// (shared/golden/mini-pythia, vendored in tests/fixtures/results/mini-pythia-memorization) and
// real lm-eval results files placed at steps 1, 12, 36: structure of the HTML (self-contained,
// one plot per metric), and memorization by duplication count against the reference summary.
#include "results/report_html.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "results/canaries.h"
#include "results/eval_results.h"
#include "tests/test_util.h"

namespace pythia::results {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kFixtures = fs::path(PYTHIA_FIXTURES_DIR) / "results";
const fs::path kMemo = kFixtures / "mini-pythia-memorization";
const int kSteps[] = {0, 1, 4, 12, 24, 36};

int run_harness(const std::string& args, std::string* out = nullptr) {
  const pythia::testing::CliRun r = pythia::testing::run_harness(args);
  if (out) *out = r.out;
  return r.code;
}

// memorization.json built from a reference CSV (the fields results/memorization_file writes).
void write_memorization(const fs::path& dir, int step) {
  const auto scores = read_memorization_scores(kMemo / ("memorization_step" + std::to_string(step) + ".csv"));
  std::vector<std::int64_t> hist(33, 0), memorized;
  double sum = 0;
  for (const auto& [i, s] : scores) {
    ++hist[static_cast<int>(s * 32 + 0.5)];
    sum += s;
    if (s == 1.0) memorized.push_back(i);
  }
  json j = {{"model", "mini-pythia"}, {"revision", "step" + std::to_string(step)}, {"step", step},
            {"row_range", {0, scores.size()}}, {"rows_scanned", scores.size()},
            {"rows_memorized", memorized.size()},
            {"mean_score", scores.empty() ? json(nullptr) : json(sum / scores.size())},
            {"histogram", hist}, {"memorized_indices", memorized},
            {"data", {{"prefix", (kMemo / "document").string()}}}};
  write_json_atomic(dir / "memorization.json", j);
  fs::copy_file(kMemo / ("memorization_step" + std::to_string(step) + ".csv"),
                dir / "memorization_scores.csv", fs::copy_options::overwrite_existing);
}

fs::path make_tree() {
  const fs::path root = fs::temp_directory_path() / ("pythia_report_test_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const char* evals[][2] = {{"0", "pythia-tiny"}, {"1", "pythia-tiny"}, {"12", "neox-variant"}, {"36", "mini-pythia-step36"}};
  for (int s : kSteps) {
    const fs::path d = root / "mini-pythia" / ("step" + std::to_string(s));
    fs::create_directories(d);
    write_memorization(d, s);
  }
  for (const auto& e : evals) {
    fs::copy_file(kFixtures / "lm-eval" / (std::string(e[1]) + ".results.json"),
                  root / "mini-pythia" / (std::string("step") + e[0]) / "results.json");
  }
  return root;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

TEST(ReportCli, SelfContainedHtmlWithOnePlotPerMetric) {
  const fs::path root = make_tree();
  const fs::path html_path = root / "report.html";
  std::string out;
  ASSERT_EQ(run_harness("report " + root.string() + " --output " + html_path.string(), &out), 0) << out;
  const std::string html = slurp(html_path);
  ASSERT_FALSE(html.empty());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  // Self-contained: no network references, no scripts, no external stylesheets/fonts/images.
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  // One plot per task metric: 7 tasks, 14 metrics in the lm-eval files.
  const std::regex fig_re("<figure class=\"metric\" data-metric=\"([^\"]+)\">\\s*<svg");
  std::set<std::string> plotted;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), fig_re); it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(plotted.insert((*it)[1]).second) << "two plots for " << (*it)[1];
  }
  std::set<std::string> expected;
  for (const char* n : {"pythia-tiny"}) {
    const EvalFile f = read_eval_results(kFixtures / "lm-eval" / (std::string(n) + ".results.json"));
    for (const auto& t : f.run.tasks) {
      for (const auto& m : t.metrics) expected.insert(t.task + "/" + m.name);
    }
  }
  EXPECT_EQ(expected.size(), 14u);
  EXPECT_EQ(plotted, expected);
  // Memorization plots (rate, mean) and canary plots (mean, fraction), all inline SVG.
  EXPECT_EQ(count(html, "<figure class=\"memorization\"><svg"), 2);
  EXPECT_EQ(count(html, "<figure class=\"canaries\"><svg"), 2);
  EXPECT_EQ(count(html, "<svg"), 14 + 4);
  EXPECT_EQ(count(html, "<svg"), count(html, "</svg>"));
  // Stderr bands exist (acc has a stderr), and step 0 gets its own tick on memorization plots.
  EXPECT_GT(count(html, "class=\"band\""), 0);
  EXPECT_EQ(count(html, "class=\"step0\">0</text>"), 14);
  // Tables with the numbers.
  EXPECT_NE(html.find("0.5348"), std::string::npos);  // pythia-tiny piqa acc at step 1
  EXPECT_NE(html.find("<td>[0, 576)</td><td>576</td>"), std::string::npos);
  if (std::getenv("PYTHIA_KEEP_REPORT") == nullptr) fs::remove_all(root);
  else std::fprintf(stderr, "kept %s\n", html_path.c_str());
}

TEST(Canaries, ByDuplicationMatchesReferenceSummary) {
  const CanaryManifest manifest = read_canary_manifest(kMemo / "canaries.json");
  ASSERT_EQ(manifest.canaries.size(), 34u);
  const json summary = read_json_file(kMemo / "memorization_summary.json");
  int compared = 0;
  for (int s : kSteps) {
    const auto scores = read_memorization_scores(kMemo / ("memorization_step" + std::to_string(s) + ".csv"));
    const auto stats = memorization_by_duplication(manifest, scores);
    const json& ref = summary["checkpoints"]["step" + std::to_string(s)]["canaries_by_duplicates"];
    for (const DuplicationStats& d : stats) {
      const std::string key = std::to_string(d.duplicates);
      if (!ref.contains(key)) {
        EXPECT_EQ(d.canaries_seen, 0) << "step " << s << " dup " << key;
        continue;
      }
      SCOPED_TRACE("step " + std::to_string(s) + " dup " + key);
      EXPECT_EQ(d.canaries_seen, ref[key]["canaries_seen"].get<int>());
      EXPECT_EQ(d.canaries_memorized, ref[key]["canaries_memorized"].get<int>());
      EXPECT_EQ(d.rows_evaluated, ref[key]["rows_evaluated"].get<std::int64_t>());
      EXPECT_EQ(d.rows_memorized, ref[key]["rows_memorized"].get<std::int64_t>());
      ASSERT_TRUE(d.mean_score.has_value());
      EXPECT_NEAR(*d.mean_score, ref[key]["mean_score"].get<double>(), 1e-12);
      ++compared;
    }
  }
  EXPECT_GE(compared, 25);
}

TEST(ReportCli, UsageAndMissing) {
  EXPECT_EQ(run_harness("report"), 2);
  EXPECT_EQ(run_harness("report /nonexistent/dir -o /tmp/x.html"), 3);
  std::string out;
  EXPECT_EQ(run_harness("report --help", &out), 0);
  for (const char* flag : {"--output", "--canaries", "--title"}) EXPECT_NE(out.find(flag), std::string::npos);
}

}  // namespace
}  // namespace pythia::results

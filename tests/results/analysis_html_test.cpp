// results/analysis_html.h: the analysis section (heatmap with one cell per checkpoint pair and the
// counts in tooltips, trajectory and duplicate-count plots), well-formed SVG markup, `report`
// showing it when the tree root holds analysis.json, malformed documents refused naming them.
#include "results/analysis_html.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "data/gzip_stream.h"
#include "results/eval_results.h"
#include "results/report_html.h"
#include "results/results_reader.h"
#include "tests/test_util.h"

namespace pythia::results {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kGolden = fs::path(PYTHIA_FIXTURES_DIR) / "golden" / "analysis";

std::size_t count(const std::string& h, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = h.find(needle); p != std::string::npos; p = h.find(needle, p + 1)) ++n;
  return n;
}

TEST(AnalysisHtml, HeatmapCellsTooltipsAndPlots) {
  const json a = json::parse(data::read_whole_file(kGolden / "analysis-tree-dedup.json"));
  const std::string h = render_analysis_html(a, "analysis.json");
  ASSERT_EQ(a["groups"].size(), 2u);
  const std::size_t k0 = a["groups"][0]["checkpoints"].size(), k1 = a["groups"][1]["checkpoints"].size();
  EXPECT_EQ(count(h, "<figure class=\"analysis-heatmap\">"), 2u);
  EXPECT_EQ(count(h, "</title></rect>"), k0 * k0 + k1 * k1);  // one cell (with tooltip) per pair
  EXPECT_EQ(count(h, "transform=\"rotate(90 "), k0 + k1);      // one column label per checkpoint
  EXPECT_EQ(count(h, "<figure class=\"analysis-trajectory\">"), 4u);
  EXPECT_EQ(count(h, "<figure class=\"analysis-duplicates\">"), 2u);
  // The first pair's tooltip carries its counts from the document.
  const json& p = a["groups"][0]["pairs"][0];
  EXPECT_NE(h.find("|A|=" + std::to_string(p["n_a"].get<int>()) + " |B|=" + std::to_string(p["n_b"].get<int>()) +
                   " |A∩B|=" + std::to_string(p["n_ab"].get<int>())),
            std::string::npos);
  EXPECT_EQ(count(h, "<svg"), count(h, "</svg>"));
  EXPECT_EQ(count(h, "<title>"), count(h, "</title>"));
}

TEST(AnalysisHtml, MalformedDocumentIsAResultsFileError) {
  EXPECT_THROW(render_analysis_section(json::object(), "x.json"), ResultsFileError);
  EXPECT_THROW(render_analysis_section(json{{"groups", json::array({json{{"checkpoints", 3}}})}}, "x.json"),
               ResultsFileError);
}

TEST(AnalysisHtml, ReportShowsTheSectionWhenTheTreeHoldsAnalysisJson) {
  const fs::path d = testing::fresh_temp_dir("analysis_html_report");
  fs::copy(fs::path(PYTHIA_FIXTURES_DIR) / "analysis-tree", d / "tree", fs::copy_options::recursive);
  const std::string without = render_report_html(read_result_tree(d / "tree"), {});
  EXPECT_EQ(without.find("analysis-heatmap"), std::string::npos);
  fs::copy_file(kGolden / "analysis-tree.json", d / "tree" / kAnalysisJson);
  const std::string with = render_report_html(read_result_tree(d / "tree"), {});
  EXPECT_EQ(count(with, "<figure class=\"analysis-heatmap\">"), 2u);
  fs::remove_all(d);
}

}  // namespace
}  // namespace pythia::results

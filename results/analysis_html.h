// HTML of a cross-checkpoint analysis document (memorization/cross_checkpoint.h, `analyze`):
// per data group
//  - a heatmap of the memorized-set matrix: cell (row A, column B) = |A∩B| / |A|, the fraction of
//    A's memorized rows that B also memorizes (precision of A predicting B above the diagonal,
//    recall of B predicting A below it), with the counts in each cell's tooltip;
//  - memorization rate against step, and rows gained / forgotten since the previous checkpoint,
//    one series per model;
//  - when the analysis has "by_duplicates" (analyze --dedup-counts): memorization rate against
//    duplicate count, one series per checkpoint of each model.
// Inline SVG only (results/svg_plot.h), no scripts. Figures: <figure class="analysis-heatmap">,
// <figure class="analysis-trajectory">, <figure class="analysis-duplicates">.
// `report` appends render_analysis_section() when the tree root holds analysis.json.
// Errors: ResultsFileError for a document that is not an analysis. Thread safety: pure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace pythia::results {

inline constexpr const char* kAnalysisJson = "analysis.json";

// The <h2> section (no <html> wrapper). `name` names the document in errors.
std::string render_analysis_section(const nlohmann::json& analysis, const std::string& name);

// A whole self-contained page holding the section.
std::string render_analysis_html(const nlohmann::json& analysis, const std::string& name,
                                 const std::string& title = "pythia-harness memorization analysis");

}  // namespace pythia::results

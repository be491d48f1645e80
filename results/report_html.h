// The HTML report of a results tree (`pythia-harness report DIR --output report.html`): ONE
// self-contained file — inline CSS, inline SVG plots, no scripts, no external resources — with
//  - every task metric against training step (log step axis, step 0 as a special tick, stderr
//    bands), one plot per task/metric, one series per model (a published evals/ file: one series
//    per folder and shot count, "<folder> (K-shot)", step from the file);
//  - memorization rate and mean score against step;
//  - memorization by duplication count when a canary manifest is known (ReportOptions::canaries,
//    else `canaries.json` beside the memorization's data prefix): per step, canaries memorized /
//    seen and mean score per duplication count, from memorization_scores.csv[.gz];
//  - the numbers as tables.
// Each eval plot sits in <figure class="metric" data-metric="TASK/METRIC">; memorization plots in
// <figure class="memorization">, canary plots in <figure class="canaries">.
//
// Errors: ResultsFileError from unreadable score/manifest files. Thread safety: pure.
#pragma once

#include <filesystem>
#include <string>

#include "results/results_reader.h"

namespace pythia::results {

struct ReportOptions {
  std::filesystem::path canaries;  // empty: look beside each memorization's data prefix
  std::string title = "pythia-harness report";
};

std::string render_report_html(const ResultTree& tree, const ReportOptions& options);

// Where the canary manifest of a memorization result is looked for when none is given:
// <dir of data_prefix>/canaries.json, trying data_prefix as absolute, relative to the current
// directory, to the tree root and to the memorization.json folder. Empty when not found.
std::filesystem::path find_canary_manifest(const MemorizationResult& m,
                                           const std::filesystem::path& tree_root);

}  // namespace pythia::results

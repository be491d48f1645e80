// `pythia-harness report DIR --output report.html`: one self-contained HTML file (inline CSS and
// SVG, no scripts, no network) with every metric against training step (results/report_html.h).
#include <boost/program_options.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "data/error.h"
#include "harness/cli_util.h"
#include "harness/commands.h"
#include "results/eval_results.h"
#include "results/report_html.h"
#include "data/atomic_file.h"

namespace pythia::harness {

int run_report(const Args& args) {
  namespace po = boost::program_options;
  std::string output, canaries, title;
  std::vector<std::string> positional;
  po::options_description desc(
      "Usage: pythia-harness report DIR [options]\n"
      "\n"
      "Reads every results file under DIR (eval results in lm-eval v0.4 or Pythia v0 layout,\n"
      "including real lm-evaluation-harness files, and memorization.json with\n"
      "memorization_scores.csv[.gz]), as written by `sweep`, and writes ONE self-contained HTML\n"
      "file: every task metric against training step (log step axis, step 0 as its own tick,\n"
      "stderr bands), memorization rate and mean score against step, memorization by duplication\n"
      "count when a canary manifest is known, and all numbers as tables. No scripts, fonts or\n"
      "other external resources.\n"
      "\n"
      "Options");
  desc.add_options()
      ("help,h", "print this help")
      ("output,o", po::value<std::string>(&output)->default_value("report.html"),
       "the HTML file to write (atomically)")
      ("canaries", po::value<std::string>(&canaries),
       "canary manifest (JSON with canaries[] {duplicates, indices}); default: canaries.json "
       "beside the data prefix recorded in each memorization.json, if present")
      ("title", po::value<std::string>(&title)->default_value("pythia-harness report"),
       "the report's title");
  po::options_description hidden;
  hidden.add_options()("dir", po::value<std::vector<std::string>>(&positional));
  po::positional_options_description pos;
  pos.add("dir", -1);
  if (!parse_or_help(args, desc, &pos, &hidden)) return 0;
  if (positional.size() != 1) throw UsageError("expected one results folder (or file)");
  try {
    const auto tree = results::read_result_tree(positional[0]);
    if (tree.evals.empty() && tree.memorizations.empty()) {
      throw DataError(positional[0], "no results files found");
    }
    results::ReportOptions opt;
    opt.canaries = canaries;
    opt.title = title;
    data::write_file_atomic(output, results::render_report_html(tree, opt));
    std::fprintf(stderr, "report: %zu eval file(s), %zu memorization scan(s) -> %s\n",
                 tree.evals.size(), tree.memorizations.size(), output.c_str());
  } catch (const results::ResultsFileError& e) {
    throw DataError(e.what());
  }
  return 0;
}

}  // namespace pythia::harness

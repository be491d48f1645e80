// `pythia-harness report DIR --output report.html`: one self-contained HTML file (inline CSS and
// SVG, no scripts, no network) with every metric against training step (results/report_html.h).
#include <boost/program_options.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
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
      "Usage: pythia-harness report DIR [DIR...] [options]\n"
      "\n"
      "Reads every results file under DIR (eval results in lm-eval v0.4 or Pythia v0 layout,\n"
      "including real lm-evaluation-harness files, and memorization.json with\n"
      "memorization_scores.csv[.gz]), as written by `sweep`, and writes ONE self-contained HTML\n"
      "file: every task metric against training step (log step axis, step 0 as its own tick,\n"
      "stderr bands), memorization rate and mean score against step, memorization by duplication\n"
      "count when a canary manifest is known, and all numbers as tables. No scripts, fonts or\n"
      "other external resources.\n"
      "\n"
      "DIR may also be Pythia's published evals/ tree (EleutherAI/pythia evals/pythia-v1 or\n"
      "pythia-v0: <size>[-5shot]_step<N>.json files, zero- and five-shot side by side; the shot\n"
      "count is read from each file). Give several DIRs to plot them together, e.g. our sweep\n"
      "output and the published tree: each DIR's series are named after it.\n"
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
  if (positional.empty()) throw UsageError("expected a results folder (or file)");
  try {
    std::vector<results::ResultTree> trees;
    std::vector<std::string> names;
    for (const std::string& dir : positional) {
      trees.push_back(results::read_result_tree(dir));
      if (trees.back().evals.empty() && trees.back().memorizations.empty()) {
        throw DataError(dir, "no results files found");
      }
      std::string name = std::filesystem::path(dir).lexically_normal().filename().string();
      if (name.empty()) name = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
      if (name.empty()) name = dir;
      if (std::find(names.begin(), names.end(), name) != names.end()) name.append("#").append(std::to_string(names.size() + 1));
      names.push_back(name);
    }
    const auto tree = trees.size() == 1 ? trees.front() : results::merge_result_trees(trees, names);
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

// `pythia-harness compare BASELINE NEW`: regression check between two results files or trees
// (results/compare.h has the rules). Reads our files (lm-eval v0.4 and Pythia v0.3 layouts,
// memorization.json) and lm-evaluation-harness v0.4 results files directly.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "data/error.h"
#include "harness/cli_util.h"
#include "harness/commands.h"
#include "results/compare.h"
#include "results/memorization_file.h"
#include "results/memorized_evals.h"

namespace pythia::harness {

namespace {
// "1e-06" rather than Boost's "9.9999999999999995e-07" in --help.
std::string short_number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}
}  // namespace

namespace {

namespace po = boost::program_options;

const char* const kUsage =
    "Usage: pythia-harness compare BASELINE NEW [options]\n"
    "       pythia-harness compare THEIRS.jsonl[.gz] OURS   (memorized sets, below)\n"
    "\n"
    "Compares two results files, or two result trees (folders as written by `sweep`, searched\n"
    "recursively; folders are matched by their path relative to the tree root), metric by metric.\n"
    "A file can be ours (lm-eval v0.4 or Pythia v0 layout), a real lm-evaluation-harness v0.4\n"
    "results_<timestamp>.json, or a memorization.json (with memorization_scores.csv[.gz] beside it).\n"
    "Either side may be Pythia's published evals/ tree (EleutherAI/pythia evals/pythia-v1 or\n"
    "pythia-v0, or a folder of it: <size>_step<N>.json, <size>-5shot_step<N>.json, pythia-v1.1-*\n"
    "models). Then evals are matched by checkpoint: model size (pythia-v1.1-160m = pythia-160m =\n"
    "160m), step and num_fewshot (from each file's config, not its name), and only the checkpoints\n"
    "and tasks on both sides are compared (the rest is counted in notes). A published file whose\n"
    "name's step contradicts its config is an error naming the file (exit 3).\n"
    "Prints one line per value: baseline, new, difference, the allowed difference, the rule, and\n"
    "ok / REGRESSION / MISSING (in baseline, absent from new) / new (only in new; not a failure).\n"
    "\n"
    "Default tolerances:\n"
    "  perplexity, ppl, word_perplexity, byte_perplexity, bits_per_byte: |diff| <= rel x |baseline|\n"
    "  other metrics with a standard error (acc, acc_norm): |diff| <= stderr-factor x the larger\n"
    "    of the two standard errors\n"
    "  every metric: at least the absolute floor --abs\n"
    "  standard errors: |diff| <= stderr-rel x |baseline stderr|\n"
    "  memorization: row range and rows scanned exact; rows memorized, the memorized row set,\n"
    "    histogram bins and per-row scores (memorization_scores.csv) may change by at most\n"
    "    --max-changed-rows rows; mean score within --mean-score-abs\n"
    "\n"
    "Memorized sets: when BASELINE or NEW is a memorized-rows file in the layout of EleutherAI's\n"
    "published pythia-memorized-evals (JSON lines {\"index\", \"tokens\", \"__index_level_0__\"},\n"
    "plain or .gz; ours: memorized_evals.jsonl.gz from `memorize --memorized-evals`), the other path\n"
    "may be such a file, a memorization.json or its folder; prints |ours|, |theirs|, both,\n"
    "only-ours, only-theirs, precision and recall (exit 0; the spec expects small,\n"
    "margin-explained differences, not equality).\n"
    "\n"
    "Exit status: 0 every value within tolerance, 1 a regression or a missing value,\n"
    "2 usage error, 3 a file that cannot be read.\n"
    "\n"
    "Options";

}  // namespace

namespace {

bool is_memorized_evals(const std::string& p) {
  return p.ends_with(".jsonl") || p.ends_with(".jsonl.gz");
}

// The memorized row indices of a memorized-evals file, a memorization.json or its folder.
std::vector<std::int64_t> memorized_indices(const std::string& p) {
  if (is_memorized_evals(p)) {
    std::vector<std::int64_t> out;
    for (const auto& r : results::read_memorized_evals(p)) out.push_back(r.index);
    return out;
  }
  std::filesystem::path path = p;
  if (std::filesystem::is_directory(path)) path /= results::kMemorizationJson;
  return results::read_memorization(path).memorized_indices;
}

}  // namespace

int run_compare(const Args& args) {
  results::CompareOptions opt;
  std::vector<std::string> positional, rules;
  bool only_problems = false, no_stderr = false, no_scores = false;
  po::options_description desc(kUsage);
  desc.add_options()
      ("help,h", "print this help")
      ("abs", po::value<double>(&opt.abs_floor)->default_value(opt.abs_floor, short_number(opt.abs_floor)),
       "absolute floor: a difference this small always passes")
      ("rel", po::value<double>(&opt.rel)->default_value(opt.rel, short_number(opt.rel)),
       "relative tolerance of perplexity-like metrics (perplexity, word_perplexity, "
       "byte_perplexity, bits_per_byte)")
      ("stderr-factor", po::value<double>(&opt.stderr_factor)->default_value(opt.stderr_factor, short_number(opt.stderr_factor)),
       "metrics with a standard error (acc, acc_norm) may move by this many times the larger "
       "standard error")
      ("stderr-rel", po::value<double>(&opt.stderr_rel)->default_value(opt.stderr_rel, short_number(opt.stderr_rel)),
       "relative tolerance of the standard errors themselves")
      ("no-stderr-check", po::bool_switch(&no_stderr),
       "do not compare standard errors (e.g. against files made with another bootstrap order)")
      ("tolerance,t", po::value<std::vector<std::string>>(&rules)->composing(),
       "per-metric override, repeatable: METRIC=RULE or TASK/METRIC=RULE with RULE abs:X, rel:X "
       "or stderr:F, e.g. -t acc=abs:0.01 -t lambada_openai/perplexity=rel:0.05 "
       "-t memorization/mean_score=abs:1e-3 (a standard error is METRIC_stderr)")
      ("one-sided", po::bool_switch(&opt.one_sided),
       "only a change in the worse direction (per higher_is_better) counts as a regression")
      ("max-changed-rows", po::value<std::int64_t>(&opt.max_changed_rows)->default_value(0),
       "memorization: how many rows may change memorized status / score / histogram bin")
      ("mean-score-abs", po::value<double>(&opt.mean_score_abs)->default_value(opt.mean_score_abs, short_number(opt.mean_score_abs)),
       "memorization: absolute tolerance of the mean score")
      ("no-scores", po::bool_switch(&no_scores),
       "memorization: do not read memorization_scores.csv[.gz] (per-row comparison)")
      ("only-problems", po::bool_switch(&only_problems),
       "print only rows that are not ok (the summary line still counts all)");
  po::options_description hidden;
  hidden.add_options()("paths", po::value<std::vector<std::string>>(&positional));
  po::positional_options_description pos;
  pos.add("paths", -1);
  if (!parse_or_help(args, desc, &pos, &hidden)) return 0;
  if (positional.size() != 2) {
    throw UsageError("expected two paths, BASELINE and NEW (got " +
                     std::to_string(positional.size()) + ")");
  }
  if (opt.abs_floor < 0 || opt.rel < 0 || opt.stderr_factor < 0 || opt.stderr_rel < 0 ||
      opt.max_changed_rows < 0 || opt.mean_score_abs < 0) {
    throw UsageError("tolerances must be >= 0");
  }
  if (is_memorized_evals(positional[0]) || is_memorized_evals(positional[1])) {
    try {
      const auto c = results::compare_memorized_sets(memorized_indices(positional[1]), memorized_indices(positional[0]));
      std::cout << results::format_memorized_comparison(c, positional[1], positional[0]);
    } catch (const results::ResultsFileError& e) {
      throw DataError(e.what());
    }
    return static_cast<int>(ExitCode::kOk);
  }
  opt.check_stderr = !no_stderr;
  opt.compare_scores_csv = !no_scores;
  for (const std::string& r : rules) {
    const auto eq = r.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw UsageError("--tolerance '" + r + "': expected METRIC=RULE");
    }
    try {
      opt.overrides[r.substr(0, eq)] = results::parse_tolerance_rule(r.substr(eq + 1));
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--tolerance: ") + e.what());
    }
  }
  results::CompareResult result;
  try {
    const auto baseline = results::read_result_tree(positional[0]);
    const auto candidate = results::read_result_tree(positional[1]);
    if (baseline.evals.empty() && baseline.memorizations.empty()) {
      throw DataError(positional[0], "no results files found");
    }
    result = results::compare_trees(baseline, candidate, opt);
  } catch (const results::ResultsFileError& e) {
    throw DataError(e.what());
  }
  std::cout << results::format_compare_table(result, only_problems);
  std::cout.flush();
  return result.failures() == 0 ? static_cast<int>(ExitCode::kOk)
                                 : static_cast<int>(ExitCode::kFailure);
}

}  // namespace pythia::harness

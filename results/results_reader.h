// Reading results back: evaluation results files (ours in lm-eval v0.4 or Pythia v0.3 layout, and
// real lm-evaluation-harness v0.4 `results_<timestamp>.json` files), memorization outputs
// (`memorization.json` + `memorization_scores.csv[.gz]`, written by results/memorization_file.*),
// and whole result trees (`DIR/<model>/<revision>/...`, as `pythia-harness sweep` writes them).
//
// Errors: every unreadable or malformed file throws ResultsFileError naming the file and the
// problem. Thread safety: free functions without shared state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/eval_results.h"
#include "results/memorization_file.h"

namespace pythia::results {

enum class EvalLayout { kLmEvalV04, kPythiaV03 };

struct EvalFile {
  std::filesystem::path path;
  EvalLayout layout = EvalLayout::kLmEvalV04;
  // Metrics always use v0.4 names ("perplexity", not "ppl"); versions as in the file.
  EvalRun run;
};

// Parses a results JSON document. v0.4: results{task:{"m,filter", "m_stderr,filter"}} (filter
// "none" is dropped from the metric name; other filters are kept as "m,filter"), stderr "N/A" ->
// nullopt, higher_is_better from the file (default: false for names containing "perplexity" or
// "bits_per_byte", true otherwise). v0.3: bare names, "ppl" -> "perplexity", tasks
// "hendrycksTest-<subject>" -> "mmlu_<subject>" (v04_task_name). `name` is used in
// error messages. Throws ResultsFileError when it is neither layout.
EvalFile parse_eval_results(const nlohmann::json& j, const std::string& name);
EvalFile read_eval_results(const std::filesystem::path& path);

// Reads a JSON file (plain or .gz). Throws ResultsFileError.
nlohmann::json read_json_file(const std::filesystem::path& path);

// What a results tree holds, keyed by the folder path relative to the tree root using '/'
// ("pythia-160m/step1000"; "." for files directly in the root).
struct ResultTree {
  std::filesystem::path root;
  std::map<std::string, EvalFile> evals;  // per folder: the eval results file (when a folder
                                          // holds several: a v0.4-layout one, newest file name)
  std::map<std::string, MemorizationResult> memorizations;
  // True when the tree holds files named as Pythia's published evals/ (results/published_evals.h):
  // those are keyed "<folder>/<file name>" (a published folder holds one file per step and shot),
  // and compare matches evals by checkpoint (size, step, num_fewshot) instead of by folder.
  bool published = false;
};

// Scans `root` recursively. JSON files are classified by content: an object with "results" and
// "versions" is an eval results file, one named memorization.json (or holding "rows_memorized")
// a memorization result; other JSON files (markers, manifests) are ignored. A single file may be
// passed as root: it becomes the only entry under key ".". Eval files with a published name
// (<size>[-Kshot]_step<N>.json, ...global_step<N>_eval_results_<date>.json) are keyed
// "<folder>/<file name>" and checked (results/published_evals.h eval_checkpoint: a name whose step
// disagrees with the file is a ResultsFileError naming it).
ResultTree read_result_tree(const std::filesystem::path& root);

// Several trees as one (e.g. ours and a published evals/ tree, for one report): every key is
// prefixed "<names[i]>/" (names.size() == trees.size()); root is the first tree's; published if
// any is.
ResultTree merge_result_trees(const std::vector<ResultTree>& trees, const std::vector<std::string>& names);

// The revision and step an eval file belongs to: config.model_revision, else "revision=" in
// config.model_args, else the folder name.
std::string revision_of_eval(const EvalFile& f, const std::string& folder_key);

}  // namespace pythia::results

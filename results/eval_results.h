// Evaluation results in memory, and their two on-disk layouts:
//  - lm-evaluation-harness v0.4 (`results_<timestamp>.json`, EleutherAI/lm-evaluation-harness
//    commit 4e7e0d4, lm_eval/evaluator_utils.py + loggers/evaluation_tracker.py), spec tasks.md §1.7;
//  - the v0.3 / hf-causal layout of Pythia's published files (EleutherAI/pythia
//    evals/pythia-v1/...), spec tasks.md §1.7 "v0.3" and §3.
// results/ depends only on data/ (errors, atomic files, gzip streams).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/model_identity.h"

namespace pythia::results {

// A results file that cannot be read or written. The message names the file and the problem.
// (harness/ maps it to DataError, exit code 3.)
class ResultsFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  ResultsFileError(const std::string& file, const std::string& problem)
      : std::runtime_error(file + ": " + problem) {}
};

// One aggregated metric of one task, named as in lm-eval v0.4 ("acc", "acc_norm", "perplexity",
// "word_perplexity", "byte_perplexity", "bits_per_byte").
struct MetricValue {
  std::string name;
  double value = 0.0;
  // nullopt = no standard error: written as "N/A" in v0.4, the key is absent in v0.3.
  std::optional<double> stderr_value;
  bool higher_is_better = true;
};

struct TaskResult {
  std::string task;      // lm-eval task name, e.g. "lambada_openai"
  double version = 1.0;  // YAML metadata.version (1.0; wikitext 2.0)
  int num_fewshot = 0;
  std::int64_t n_original = 0;   // documents in the split
  std::int64_t n_effective = 0;  // documents evaluated (after --limit)
  std::vector<MetricValue> metrics;  // in lm-eval's metric_list order
  nlohmann::json task_config;        // the task's full config dict (v0.4 "configs"); may be null
};

// An lm-eval group row (e.g. "mmlu", "mmlu_stem"): the aggregate of its leaf tasks' metrics
// (tasks/mmlu.h aggregate_group). v0.4 writes it under "results" and "groups", its leaves under
// "group_subtasks", its version (a string, as lm-eval logs group metadata) under "versions"; the
// pythia-v0 layout has no group rows.
struct GroupResult {
  std::string name;
  std::string alias;
  std::string version;               // "2"
  std::vector<std::string> subtasks;  // group_subtasks: child groups or leaf tasks
  std::int64_t sample_len = 0;
  std::vector<MetricValue> metrics;
};

struct EvalRun {
  std::vector<TaskResult> tasks;  // in evaluation order
  std::vector<GroupResult> groups;  // lm-eval group rows (v0.4 only)
  // model, model_args, model_revision, batch_size, device, limit, bootstrap_iters, random_seed,
  // numpy_seed, torch_seed, fewshot_seed, ... (v0.4 "config" keys). Extra top-level v0.4 keys may
  // be given under config["_top_level"] (an object merged into the file's top level, e.g.
  // model_name, date, total_evaluation_time_seconds, lm_eval_version).
  nlohmann::json config;
  // The weights evaluated (results/model_identity.h): both layouts write it as "model_identity";
  // v0.4 also fills config.model_sha (HF commit) and config.model_num_parameters from it.
  std::optional<ModelIdentity> identity;
};

// The two layouts a results file can be written in (--format).
enum class ResultsLayout {
  kLmEvalV04,  // "lm-eval": lm-evaluation-harness v0.4
  kPythiaV0,   // "pythia-v0": the v0.3/hf-causal layout of Pythia's published evals/
};
const char* to_string(ResultsLayout l);  // "lm-eval" | "pythia-v0"
// Throws UsageError (data/error.h) for any other name.
ResultsLayout parse_results_layout(const std::string& name);

// The v0.4 results file: results{task:{name, alias, sample_len, "m,none", "m_stderr,none"}},
// group_subtasks {}, configs, versions, n-shot, higher_is_better, n-samples, config, git_hash,
// date, model_name, model_name_sanitized, ... (spec tasks.md §1.7). Values without stderr get the
// string "N/A". `date` is taken from config["_top_level"]["date"] when present, else the current
// UNIX time. Note: nlohmann::json keeps keys sorted; key order carries no meaning in the format.
nlohmann::json to_lm_eval_v04(const EvalRun& run);

// The v0.3 / hf-causal layout of Pythia's published evals/ files (real ones, with the exact
// published shape described, in tests/fixtures/published-evals/README.md), in the published KEY
// ORDER (insertion order, not alphabetical): top level results, versions, config;
// results{task:{m, m_stderr, ...}} with tasks in run order and per task each metric followed by its
// stderr (lm-eval metric order; bare names, lambada's "perplexity" renamed "ppl", the stderr key
// absent when there is none); versions{task: integer} (v03_task_version) in the same task order;
// config {model: "hf-causal", model_args (run.config["model_args"]), num_fewshot
// (v03_num_fewshot), batch_size, device, no_cache: true, limit, bootstrap_iters,
// description_dict: {}}. Published files differ from ours only in numbers and in values that
// truly differ (model_args names their hub model, device "cuda:N", batch_size; their task order is
// a Python set's, different in every file). Write it with write_ordered_json_atomic.
nlohmann::ordered_json to_pythia_v0(const EvalRun& run);

// The one num_fewshot of a v0.3 file: run.config["num_fewshot"] when set, else the tasks' common
// TaskResult::num_fewshot (0 for no tasks). Throws UsageError (data/error.h) when the tasks
// disagree: a v0.3 file holds one num_fewshot for all its tasks.
int v03_num_fewshot(const EvalRun& run);

// The integer v0.3 VERSION of a task given its v0.4 metadata.version: the v0.4 major version minus
// one, floored at 0 (lambada_openai, piqa, winogrande, arc_*, sciq: 1.0 -> 0; wikitext 2.0 -> 1).
int v03_task_version(const std::string& task, double v04_version);

// v0.3 task name of a v0.4 task: the MMLU subjects "mmlu_<subject>" were "hendrycksTest-<subject>"
// (as in Pythia's published files); every other name is unchanged. And back.
std::string v03_task_name(const std::string& v04_task);
std::string v04_task_name(const std::string& v03_task);

// v0.3 metric name of a v0.4 metric ("perplexity" -> "ppl", lambada's only), and back.
std::string v03_metric_name(const std::string& task, const std::string& v04_metric);
std::string v04_metric_name(const std::string& task, const std::string& v03_metric);

// Writes `j` with indent 2 (UTF-8, not ASCII-escaped) atomically (data/atomic_file.h), so
// readers never see a half-written file. Creates missing parent directories. Throws
// ResultsFileError naming the file on any I/O failure.
void write_json_atomic(const std::filesystem::path& path, const nlohmann::json& j);
// The same for an insertion-ordered document, written as Python's json.dumps(j, indent=2) writes it
// (results/python_json.h; the pythia-v0 layout), with no newline after the closing brace (as
// published).
void write_ordered_json_atomic(const std::filesystem::path& path, const nlohmann::ordered_json& j);

}  // namespace pythia::results

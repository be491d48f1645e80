// Task: one lm-evaluation-harness task as the evaluator sees it — its documents (read from the
// original distribution files), the requests each document issues (plain strings, exactly as
// lm-eval v0.4 builds them: the few-shot prefix, if any, then the document's own prompt), and the
// per-document metric values computed from the model's answers. Spec: shared/spec/tasks.md §1-§2. Each concrete task lives in its own file with
// its own typed Doc and names the lm-eval YAML + version it reproduces.
//
// Lifecycle: make via tasks/registry.h, then load(data_dir, limit), then for k-shot
// tasks/fewshot.h apply_fewshot (loads the few-shot pool and fixes every document's prefix);
// afterwards every method is const and thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasks/metrics.h"

namespace pythia::tasks {

// lm-eval output types used by the seven tasks (spec §1.3). Multiple choice issues one
// loglikelihood request per choice.
enum class RequestType { kLoglikelihood, kLoglikelihoodRolling };

// One lm-eval Instance: `(context, continuation)` for loglikelihood, `(text,)` for rolling
// (text in `continuation`, context empty).
struct Request {
  RequestType type = RequestType::kLoglikelihood;
  std::int64_t doc_id = 0;
  int idx = 0;  // Instance.idx: choice index (0 for lambada / wikitext)
  std::string context;
  std::string continuation;
};

// The model's answer to one request (rolling: is_greedy is meaningless and false).
struct RequestAnswer {
  double logprob = 0.0;
  bool is_greedy = false;
};

// How a metric's per-document values are aggregated (spec §1.6).
struct MetricSpec {
  std::string name;  // lm-eval v0.4 name: acc, acc_norm, perplexity, word_perplexity, ...
  Aggregation aggregation = Aggregation::kMean;
  bool higher_is_better = true;
};

// One per-document value: `value` alone (mean / perplexity), or the pair (value, weight) for the
// weighted aggregations (wikitext: (loglikelihood, words or bytes)).
struct MetricItem {
  double value = 0.0;
  double weight = 1.0;
};

// The per-document outcome: one item per MetricSpec (same order), plus what lm-eval logs.
struct DocResult {
  std::vector<MetricItem> items;
  nlohmann::json log;  // target, gold, choices, ... (samples file)
};

class Task {
 public:
  virtual ~Task() = default;

  virtual const std::string& name() const = 0;
  // YAML metadata.version (1.0; wikitext 2.0).
  virtual double version() const = 0;
  virtual std::vector<MetricSpec> metrics() const = 0;
  // The task's full lm-eval config dict (results.json "configs").
  virtual nlohmann::json config() const = 0;
  // Original data files this task reads, relative to the data dir, for --help and errors.
  virtual std::vector<std::string> data_files() const = 0;

  // Reads the documents from `data_dir` (see data/task_data.h for the layout; plain or .gz).
  // `limit` (lm-eval --limit) keeps the first N documents. Throws DataError for a missing file
  // (saying where to get it) or bad data (file and line).
  virtual void load(const std::filesystem::path& data_dir, std::optional<std::int64_t> limit) = 0;
  // Documents in the split (n-samples.original) and loaded (effective).
  virtual std::int64_t n_original() const = 0;
  virtual std::int64_t size() const = 0;

  // The requests of document `doc` in Instance.idx order; every context starts with
  // fewshot_prefix(doc).
  virtual std::vector<Request> requests(std::int64_t doc) const = 0;
  // process_results: per-document metric values from the answers to requests(doc) (same order).
  virtual DocResult process(std::int64_t doc, const std::vector<RequestAnswer>& answers) const = 0;

  // ---- few-shot (lm-eval ConfigurableTask.fewshot_context; driven by tasks/fewshot.h) ----
  // Where the examples come from and how they are joined (the task's YAML; defaults below).
  struct FewshotSource {
    // lm-eval passes the scored document to the sampler for exclusion iff the fewshot split
    // equals test_split (both null for piqa / winogrande: draw k+1, drop equal rows, keep k).
    bool exclude_eval_doc = false;
    bool first_n = false;  // sampler `first_n` (the first k of the pool) instead of `default`
    bool uses_context = true;  // false for loglikelihood_rolling (the context is discarded)
    std::string split;         // the split drawn from (train / validation / test / dev), logged
  };
  virtual FewshotSource fewshot_source() const { return {}; }
  // Reads the few-shot pool from `data_dir` (the split fewshot_source names, in its original
  // layout). Throws DataError for a missing / bad file; UsageError if the task has no pool.
  virtual void load_fewshot_pool(const std::filesystem::path& data_dir);
  virtual std::int64_t fewshot_pool_size() const { return 0; }
  // Example `i` of the pool rendered as lm-eval's few-shot turn without the trailing
  // fewshot_delimiter: doc_to_text(e) + target_delimiter + answer text of e.
  virtual std::string fewshot_example(std::int64_t i) const;
  // The Hugging Face rows of pool example `i` and document `doc` are equal (`x != doc` in
  // ContextSampler.rm_eval_doc).
  virtual bool fewshot_is_doc(std::int64_t i, std::int64_t doc) const;
  // `description` of the task for document `doc` ("" for the seven v0.4 tasks).
  virtual std::string description(std::int64_t /*doc*/) const { return ""; }

  int num_fewshot() const { return num_fewshot_; }
  // The text put before document `doc`'s own prompt ("" zero-shot).
  const std::string& fewshot_prefix(std::int64_t doc) const {
    static const std::string kEmpty;
    return prefixes_.empty() ? kEmpty : prefixes_.at(static_cast<std::size_t>(doc));
  }
  // Set by apply_fewshot: one prefix per loaded document.
  void set_fewshot(int k, std::vector<std::string> prefixes) {
    num_fewshot_ = k;
    prefixes_ = std::move(prefixes);
  }

 protected:
  // Throws UsageError: this task has no few-shot pool.
  [[noreturn]] void no_fewshot_pool() const;

 private:
  int num_fewshot_ = 0;
  std::vector<std::string> prefixes_;
};

}  // namespace pythia::tasks

namespace pythia::tasks {

// Storage of typed documents for a task family: load() reads all documents with read_docs(),
// records n_original and applies --limit (first N, dataset order; lm-eval v0.4 does not shuffle).
template <class Base, class Doc>
class DocTask : public Base {
 public:
  using Base::Base;
  void load(const std::filesystem::path& data_dir, std::optional<std::int64_t> limit) override {
    docs_ = read_docs(data_dir);
    n_original_ = static_cast<std::int64_t>(docs_.size());
    if (limit && *limit >= 0 && *limit < n_original_) docs_.resize(static_cast<std::size_t>(*limit));
  }
  std::int64_t n_original() const override { return n_original_; }
  std::int64_t size() const override { return static_cast<std::int64_t>(docs_.size()); }
  const Doc& doc(std::int64_t i) const { return docs_.at(static_cast<std::size_t>(i)); }

  void load_fewshot_pool(const std::filesystem::path& data_dir) override {
    pool_ = read_fewshot_docs(data_dir);
  }
  std::int64_t fewshot_pool_size() const override { return static_cast<std::int64_t>(pool_.size()); }
  std::string fewshot_example(std::int64_t i) const override {
    return render_example(pool_.at(static_cast<std::size_t>(i)));
  }
  bool fewshot_is_doc(std::int64_t i, std::int64_t d) const override {
    return same_row(pool_.at(static_cast<std::size_t>(i)), doc(d));
  }

 protected:
  virtual std::vector<Doc> read_docs(const std::filesystem::path& data_dir) const = 0;
  // The few-shot pool (default: the task has none -> UsageError via Task).
  virtual std::vector<Doc> read_fewshot_docs(const std::filesystem::path& data_dir) const {
    (void)data_dir;
    this->no_fewshot_pool();
  }
  virtual std::string render_example(const Doc&) const { return {}; }
  virtual bool same_row(const Doc&, const Doc&) const { return false; }

 private:
  std::vector<Doc> docs_;
  std::vector<Doc> pool_;
  std::int64_t n_original_ = 0;
};

}  // namespace pythia::tasks

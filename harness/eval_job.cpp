#include "harness/eval_job.h"

#include <tbb/task_arena.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>

#include "data/error.h"
#include "harness/evaluator.h"
#include "harness/progress.h"
#include "tasks/registry.h"

namespace pythia::harness {

namespace po = boost::program_options;
namespace fs = std::filesystem;

void add_eval_options(po::options_description& desc, EvalOptions& o) {
  std::string names;
  for (const auto& n : tasks::task_names()) names += (names.empty() ? "" : ", ") + n;
  desc.add_options()
      ("tasks", po::value(&o.tasks)->default_value(o.tasks),
       ("comma-separated lm-evaluation-harness task names, or 'all' (" + names +
        "); zero-shot, prompts and metrics of lm-eval v0.4").c_str())
      ("limit", po::value(&o.limit)->default_value(o.limit),
       "evaluate only the first N documents of each task (lm-eval --limit); -1 = all")
      ("data-dir", po::value(&o.data_dir),
       "task data in the original distribution layout: DIR/<task>/<file>, plain or .gz — "
       "lambada_openai/lambada_test.jsonl, piqa/valid.jsonl + valid-labels.lst, "
       "winogrande/dev.jsonl + dev-labels.lst, arc_easy/ARC-Easy-Test.jsonl, "
       "arc_challenge/ARC-Challenge-Test.jsonl, sciq/test.json, wikitext/wiki.test.raw. "
       "Default: $PYTHIA_DATA_DIR, else ./data/tasks. (The repository's tests/fixtures/tasks "
       "has the five real data sets and SAMPLE sciq/wikitext files for tests only.)")
      ("output", po::value(&o.output)->default_value(o.output),
       "results root: writes OUTPUT/<model>/<revision>/results.json")
      ("log-samples", po::bool_switch(&o.log_samples),
       "also write OUTPUT/<model>/<revision>/samples_<task>.jsonl: every request with its "
       "context/continuation strings, token ids, logprob and is_greedy (rolling: windows)")
      ("format", po::value(&o.format)->default_value(o.format),
       "results layout: 'lm-eval' (lm-evaluation-harness v0.4 results file) or 'pythia-v0' "
       "(the v0.3/hf-causal layout of Pythia's published evals: bare metric names, ppl, "
       "versions 0 / wikitext 1, bootstrap over v0.3's seed-42 shuffled document order). Prompts, "
       "tokenization and --limit (first N documents in dataset order) stay lm-eval v0.4's")
      ("bootstrap-iters", po::value(&o.bootstrap_iters)->default_value(o.bootstrap_iters),
       "bootstrap resamples for the lambada perplexity stderr (lm-eval default 100000; 0 = "
       "no stderrs, 'N/A')");
}

fs::path default_data_dir() {
  if (const char* env = std::getenv("PYTHIA_DATA_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return "data/tasks";
}

fs::path eval_output_dir(const EvalOptions& o, const std::string& model_name,
                         const std::string& revision) {
  return fs::path(o.output) / model_name / (revision.empty() ? std::string("main") : revision);
}

namespace {

void validate(const EvalOptions& o) {
  if (o.format != "lm-eval" && o.format != "pythia-v0") {
    throw UsageError("--format must be 'lm-eval' or 'pythia-v0', not '" + o.format + "'");
  }
  if (o.limit < -1 || o.limit == 0) throw UsageError("--limit must be a positive count (or -1 = all)");
  if (o.bootstrap_iters < 0) throw UsageError("--bootstrap-iters must be >= 0");
}

// Sizes of the real evaluation splits; a different count means sample data (warn).
std::int64_t expected_docs(const std::string& task) {
  if (task == "lambada_openai") return 5153;
  if (task == "piqa") return 1838;
  if (task == "winogrande") return 1267;
  if (task == "arc_easy") return 2376;
  if (task == "arc_challenge") return 1172;
  if (task == "sciq") return 1000;
  if (task == "wikitext") return 62;
  return -1;
}

void write_samples(const fs::path& dir, const tasks::Task& task, const TaskEvaluation& ev) {
  const auto dump = [](const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  };
  std::string text;
  for (const auto& rec : ev.records) text += dump(sample_json(task.name(), rec));
  results::write_file_atomic(dir / ("samples_" + task.name() + ".jsonl"), text);
  // Per-document values, in the layout of the lm-eval goldens' <task>.docs.jsonl.
  const auto specs = task.metrics();
  text.clear();
  for (std::size_t d = 0; d < ev.docs.size(); ++d) {
    nlohmann::json j = {{"task", task.name()}, {"doc_id", d}};
    const auto& doc = ev.docs[d];
    for (const auto& [k, v] : doc.log.items()) {
      if (k != "words" && k != "bytes") j[k] = v;
    }
    for (std::size_t m = 0; m < specs.size(); ++m) {
      const auto& item = doc.items[m];
      if (specs[m].aggregation == tasks::Aggregation::kWeightedPerplexity ||
          specs[m].aggregation == tasks::Aggregation::kBitsPerByte) {
        j[specs[m].name] = {item.value, static_cast<std::int64_t>(item.weight)};
      } else {
        j[specs[m].name] = item.value;
      }
    }
    text += dump(j);
  }
  results::write_file_atomic(dir / ("docs_" + task.name() + ".jsonl"), text);
}

std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0u) != 0x80u;
  return n;
}

}  // namespace

results::EvalRun run_eval_job(const model::CausalLm& lm, const model::Tokenizer& tokenizer,
                              const std::string& model_name, const std::string& revision,
                              const EvalOptions& o) {
  validate(o);
  const auto names = tasks::parse_task_list(o.tasks);
  const fs::path data_dir = o.data_dir.empty() ? default_data_dir() : fs::path(o.data_dir);
  const std::optional<std::int64_t> limit =
      o.limit > 0 ? std::optional<std::int64_t>(o.limit) : std::nullopt;

  // Load every task first, so a missing file is reported before any model time is spent.
  std::vector<std::unique_ptr<tasks::Task>> loaded;
  for (const auto& n : names) {
    auto t = tasks::make_task(n);
    t->load(data_dir, limit);
    if (t->size() == 0) {
      throw DataError((data_dir / n).string(), "no documents in " + t->data_files().front());
    }
    if (t->n_original() != expected_docs(n)) {
      std::fprintf(stderr,
                   "note: %s has %lld documents in %s, the real split has %lld — numbers are not "
                   "comparable to published %s results (sample data?)\n",
                   n.c_str(), static_cast<long long>(t->n_original()), data_dir.c_str(),
                   static_cast<long long>(expected_docs(n)), n.c_str());
    }
    loaded.push_back(std::move(t));
  }

  const fs::path out_dir = eval_output_dir(o, model_name, revision);
  const auto start = std::chrono::steady_clock::now();
  const EncodeFn encode = [&](std::string_view s) { return tokenizer.encode(s); };

  results::EvalRun run;
  for (const auto& task : loaded) {
    EvalSettings settings;
    settings.bootstrap_iters = o.bootstrap_iters;
    settings.v03_bootstrap_order = o.format == "pythia-v0";
    std::unique_ptr<Progress> progress;
    std::once_flag once;
    settings.progress = [&](std::uint64_t n, std::uint64_t total) {
      std::call_once(once, [&] {
        progress = std::make_unique<Progress>("eval " + task->name(), total, "tokens");
      });
      progress->advance(n);
    };
    TaskEvaluation ev = evaluate_task(*task, lm, encode, settings);
    if (progress) progress->finish();
    if (o.log_samples) write_samples(out_dir, *task, ev);
    run.tasks.push_back(std::move(ev.result));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const std::string model_args = "pretrained=" + model_name +
                                 (revision.empty() ? "" : ",revision=" + revision) +
                                 ",dtype=float32";
  run.config = {
      {"model", model_name},
      {"model_args", model_args},
      {"model_revision", revision.empty() ? "main" : revision},
      {"model_dtype", "torch.float32"},
      {"batch_size", 1},
      {"batch_sizes", nlohmann::json::array()},
      {"device", "cpu"},
      {"limit", limit ? nlohmann::json(*limit) : nlohmann::json(nullptr)},
      {"bootstrap_iters", o.bootstrap_iters},
      {"random_seed", 0},
      {"numpy_seed", 1234},
      {"torch_seed", 1234},
      {"fewshot_seed", 1234},
      {"threads", tbb::this_task_arena::max_concurrency()},
      {"data_dir", data_dir.string()},
      {"_top_level",
       {{"total_evaluation_time_seconds", std::to_string(seconds)},
        {"max_length", lm.max_positions()},
        {"date", static_cast<double>(std::time(nullptr))}}},
  };
  const nlohmann::json file =
      o.format == "pythia-v0" ? results::to_pythia_v0(run) : results::to_lm_eval_v04(run);
  results::write_json_atomic(out_dir / "results.json", file);
  return run;
}

std::string format_results_table(const results::EvalRun& run) {
  const std::vector<std::string> headers = {"Tasks", "Version", "Filter", "n-shot", "Metric",
                                            "",      "Value",   "",       "Stderr"};
  const std::vector<bool> right = {false, true, false, true, false, false, true, false, true};
  std::vector<std::vector<std::string>> rows;
  char buf[64];
  for (const auto& t : run.tasks) {
    auto metrics = t.metrics;
    std::sort(metrics.begin(), metrics.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    bool first = true;
    for (const auto& m : metrics) {
      std::vector<std::string> r(9);
      if (first) {
        r[0] = t.task;
        std::snprintf(buf, sizeof buf, "%g", t.version);
        r[1] = buf;
      }
      r[2] = "none";
      r[3] = std::to_string(t.num_fewshot);
      r[4] = m.name;
      r[5] = m.higher_is_better ? "\xE2\x86\x91" : "\xE2\x86\x93";  // ↑ ↓
      std::snprintf(buf, sizeof buf, "%.4f", m.value);
      r[6] = buf;
      r[7] = "\xC2\xB1";  // ±
      if (m.stderr_value) {
        std::snprintf(buf, sizeof buf, "%.4f", *m.stderr_value);
        r[8] = buf;
      } else {
        r[8] = "   N/A";
      }
      rows.push_back(std::move(r));
      first = false;
    }
  }
  std::vector<std::size_t> w(headers.size(), 3);
  for (std::size_t c = 0; c < headers.size(); ++c) {
    w[c] = std::max(w[c], display_width(headers[c]));
    for (const auto& r : rows) w[c] = std::max(w[c], display_width(r[c]));
  }
  auto pad = [](const std::string& s, std::size_t width, int align) {  // -1 left, 0 center, 1 right
    const std::size_t n = width - display_width(s);
    if (align < 0) return s + std::string(n, ' ');
    if (align > 0) return std::string(n, ' ') + s;
    return std::string(n / 2, ' ') + s + std::string(n - n / 2, ' ');
  };
  std::string out = "|";
  for (std::size_t c = 0; c < headers.size(); ++c) out += pad(headers[c], w[c], 0) + "|";
  out += "\n|";
  for (std::size_t c = 0; c < headers.size(); ++c) {
    out += right[c] ? std::string(w[c] - 1, '-') + ":" : std::string(w[c], '-');
    out += "|";
  }
  out += "\n";
  for (const auto& r : rows) {
    out += "|";
    for (std::size_t c = 0; c < headers.size(); ++c) out += pad(r[c], w[c], right[c] ? 1 : -1) + "|";
    out += "\n";
  }
  return out;
}

}  // namespace pythia::harness

#include "eval/eval_job.h"

#include <tbb/task_arena.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>

#include "data/atomic_file.h"
#include "data/error.h"
#include "data/progress.h"
#include "eval/evaluator.h"
#include "results/output_layout.h"
#include "tasks/fewshot.h"
#include "tasks/mmlu.h"
#include "tasks/registry.h"

namespace pythia::eval {
namespace fs = std::filesystem;
using data::Progress;

namespace {

void write_samples(const fs::path& dir, const tasks::Task& task, const TaskEvaluation& ev) {
  const auto dump = [](const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  };
  std::string text;
  for (const auto& rec : ev.records) text += dump(sample_json(task.name(), rec));
  data::write_file_atomic(dir / ("samples_" + task.name() + ".jsonl"), text);
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
  data::write_file_atomic(dir / ("docs_" + task.name() + ".jsonl"), text);
}

}  // namespace

results::EvalRun run_eval_job(const model::CausalLm& lm, const model::Tokenizer& tokenizer,
                              const std::string& model_name, const std::string& revision,
                              const EvalPlan& o, const results::ModelIdentity* identity) {
  o.validate();
  (void)o.results_file_name(model_name, revision, 0);  // a bad revision for the name: fail now
  const auto& names = o.tasks;
  const fs::path& data_dir = o.data_dir;
  const std::optional<std::int64_t> limit = o.limit;

  // Load every task first, so a missing file is reported before any model time is spent.
  std::vector<std::unique_ptr<tasks::Task>> loaded;
  for (const auto& n : names) {
    auto t = tasks::make_task(n);
    t->load(data_dir, limit);
    if (t->size() == 0) {
      throw DataError((data_dir / n).string(), "no documents in " + t->data_files().front());
    }
    tasks::apply_fewshot(*t, o.num_fewshot, data_dir);
    if (t->n_original() != tasks::real_split_docs(n)) {
      std::fprintf(stderr,
                   "note: %s has %lld documents in %s, the real split has %lld — numbers are not "
                   "comparable to published %s results (sample data?)\n",
                   n.c_str(), static_cast<long long>(t->n_original()), data_dir.c_str(),
                   static_cast<long long>(tasks::real_split_docs(n)), n.c_str());
    }
    loaded.push_back(std::move(t));
  }

  const fs::path out_dir = results::run_dir(o.output, model_name, revision);
  const auto start = std::chrono::steady_clock::now();
  const EncodeFn encode = [&](std::string_view s) { return tokenizer.encode(s); };

  results::EvalRun run;
  for (const auto& task : loaded) {
    EvalSettings settings;
    settings.bootstrap_iters = o.bootstrap_iters;
    settings.v03_bootstrap_order = o.format == results::ResultsLayout::kPythiaV0;
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
  run.groups = tasks::mmlu_group_results(run.tasks);  // lm-eval's mmlu group rows, if all subjects ran
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const std::string model_args = "pretrained=" + model_name +
                                 (revision.empty() ? "" : ",revision=" + revision) +
                                 ",dtype=float32" + (o.compute == "fp32" ? "" : ",compute=" + o.compute);
  run.config = {
      {"model", model_name},
      {"model_args", model_args},
      {"model_revision", results::revision_folder(revision)},
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
  if (identity != nullptr) run.identity = *identity;
  if (o.compute != "fp32") {
    run.config["compute"] = o.compute;
    run.config["backend"] = lm.backend();
  }
  if (o.format == results::ResultsLayout::kPythiaV0) {
    results::write_ordered_json_atomic(
        out_dir / o.results_file_name(model_name, revision, results::v03_num_fewshot(run)),
        results::to_pythia_v0(run));
  } else {
    results::write_json_atomic(out_dir / o.results_file_name(model_name, revision, 0),
                               results::to_lm_eval_v04(run));
  }
  return run;
}

}  // namespace pythia::eval

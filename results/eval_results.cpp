// See eval_results.h. Layouts: spec tasks.md §1.7 (lm-eval v0.4 commit 4e7e0d4
// lm_eval/evaluator_utils.py, lm_eval/loggers/evaluation_tracker.py; v0.3 lm_eval/evaluator.py).
#include "results/eval_results.h"

#include "data/atomic_file.h"
#include "data/error.h"
#include "results/python_json.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>

namespace pythia::results {
namespace {

using nlohmann::json;

// Config keys v0.4 always writes (evaluator.py simple_evaluate), with lm-eval's defaults.
const json& v04_config_defaults() {
  static const json defaults = {
      {"model", "pythia-harness"}, {"model_args", ""},         {"model_num_parameters", 0},
      {"model_dtype", "float32"},  {"model_revision", "main"}, {"model_sha", ""},
      {"batch_size", 1},           {"batch_sizes", json::array()},
      {"device", "cpu"},           {"use_cache", nullptr},     {"limit", nullptr},
      {"bootstrap_iters", 100000}, {"gen_kwargs", nullptr},    {"random_seed", 0},
      {"numpy_seed", 1234},        {"torch_seed", 1234},       {"fewshot_seed", 1234},
  };
  return defaults;
}

json stderr_json(const MetricValue& m) {
  if (!m.stderr_value || !std::isfinite(*m.stderr_value)) return "N/A";
  return *m.stderr_value;
}

std::string sanitize_model_name(const std::string& name) {
  // evaluation_tracker.py: re.sub(r"[\"<>:/|\\?*\[\]]+", "__", model_name)
  std::string out;
  bool in_run = false;
  for (char c : name) {
    if (c != '\0' && std::strchr("\"<>:/|\\?*[]", c) != nullptr) {
      if (!in_run) out += "__";
      in_run = true;
    } else {
      out += c;
      in_run = false;
    }
  }
  return out;
}

double now_unix_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

int v03_task_version(const std::string& /*task*/, double v04_version) {
  // Every task's v0.4 YAML bumped the major version once over its v0.3 VERSION (1.0 -> 0,
  // wikitext 2.0 -> 1), so the rule needs no task names (those live in tasks/).
  const int v = static_cast<int>(std::floor(v04_version)) - 1;
  return v < 0 ? 0 : v;
}

// v0.3 wrote lambada's perplexity as "ppl"; no other task of the suite has a metric named
// "perplexity" (wikitext's are word_/byte_perplexity), so the rename needs no task names.
std::string v03_metric_name(const std::string& /*task*/, const std::string& v04_metric) {
  return v04_metric == "perplexity" ? "ppl" : v04_metric;
}

std::string v03_task_name(const std::string& t) {
  return t.rfind("mmlu_", 0) == 0 ? "hendrycksTest-" + t.substr(5) : t;
}

std::string v04_task_name(const std::string& t) {
  return t.rfind("hendrycksTest-", 0) == 0 ? "mmlu_" + t.substr(14) : t;
}

std::string v04_metric_name(const std::string& /*task*/, const std::string& v03_metric) {
  return v03_metric == "ppl" ? "perplexity" : v03_metric;
}

json to_lm_eval_v04(const EvalRun& run) {
  json out = json::object();
  json results = json::object(), configs = json::object(), versions = json::object();
  json nshot = json::object(), hib = json::object(), nsamples = json::object();
  for (const TaskResult& t : run.tasks) {
    json entry = {{"name", t.task}, {"alias", t.task}, {"sample_len", t.n_effective}};
    json task_hib = json::object();
    for (const MetricValue& m : t.metrics) {
      entry[m.name + ",none"] = m.value;
      entry[m.name + "_stderr,none"] = stderr_json(m);
      task_hib[m.name] = m.higher_is_better;
    }
    results[t.task] = std::move(entry);
    json cfg = t.task_config.is_object() ? t.task_config : json::object();
    if (!cfg.contains("task")) cfg["task"] = t.task;
    cfg["num_fewshot"] = t.num_fewshot;
    if (!cfg.contains("metadata")) cfg["metadata"] = {{"version", t.version}};
    configs[t.task] = std::move(cfg);
    versions[t.task] = t.version;
    nshot[t.task] = t.num_fewshot;
    hib[t.task] = std::move(task_hib);
    nsamples[t.task] = {{"original", t.n_original}, {"effective", t.n_effective}};
  }
  json groups = json::object(), group_subtasks = json::object();
  for (const GroupResult& g : run.groups) {
    json row = {{"alias", g.alias}, {"name", g.name}, {"sample_len", g.sample_len}};
    json count = json::object();
    for (const MetricValue& m : g.metrics) {
      row[m.name + ",none"] = m.value;
      row[m.name + "_stderr,none"] = stderr_json(m);
      count[m.name + ",none"] = g.sample_len;
    }
    row["sample_count"] = std::move(count);
    results[g.name] = row;
    groups[g.name] = std::move(row);
    group_subtasks[g.name] = g.subtasks;
    versions[g.name] = g.version;
  }
  out["results"] = std::move(results);
  if (!run.groups.empty()) out["groups"] = std::move(groups);
  out["group_subtasks"] = std::move(group_subtasks);
  out["configs"] = std::move(configs);
  out["versions"] = std::move(versions);
  out["n-shot"] = std::move(nshot);
  out["higher_is_better"] = std::move(hib);
  out["n-samples"] = std::move(nsamples);

  json config = v04_config_defaults();
  json top = json::object();
  if (run.config.is_object()) {
    for (const auto& [k, v] : run.config.items()) {
      if (k == "_top_level") {
        top = v;
      } else {
        config[k] = v;
      }
    }
  }
  if (run.identity) {
    config["model_sha"] = run.identity->hf_commit;
    config["model_num_parameters"] = run.identity->num_parameters;
    out[kModelIdentityKey] = to_json(*run.identity);
  }
  out["config"] = config;
  const std::string model = config["model"].is_string() ? config["model"].get<std::string>() : "";
  out["git_hash"] = nullptr;
  out["upper_git_hash"] = nullptr;
  out["date"] = now_unix_seconds();
  out["pretty_env_info"] = "pythia-harness (C++; no Python environment)";
  out["transformers_version"] = nullptr;  // not produced by transformers / lm-eval
  out["lm_eval_version"] = nullptr;
  out["task_hashes"] = json::object();
  out["total_evaluation_time_seconds"] = "0";
  out["model_source"] = "pythia-harness";
  out["model_name"] = model;
  out["model_name_sanitized"] = sanitize_model_name(model);
  out["system_instruction"] = nullptr;
  out["system_instruction_sha"] = nullptr;
  out["fewshot_as_multiturn"] = false;
  out["chat_template"] = nullptr;
  out["chat_template_sha"] = nullptr;
  out["eot_token_id"] = 0;
  out["max_length"] = 2048;
  out["tokenizer_pad_token"] = json::array({"<|endoftext|>", "0"});
  out["tokenizer_eos_token"] = json::array({"<|endoftext|>", "0"});
  out["tokenizer_bos_token"] = json::array({"<|endoftext|>", "0"});
  if (top.is_object()) {
    for (const auto& [k, v] : top.items()) out[k] = v;
  }
  return out;
}

int v03_num_fewshot(const EvalRun& run) {
  if (run.config.is_object() && run.config.contains("num_fewshot") &&
      run.config["num_fewshot"].is_number_integer()) {
    return run.config["num_fewshot"].get<int>();
  }
  std::optional<int> k;
  for (const TaskResult& t : run.tasks) {
    if (k && *k != t.num_fewshot) {
      throw UsageError("the pythia-v0 layout holds one num_fewshot for all tasks, but " + t.task +
                       " has " + std::to_string(t.num_fewshot) + " and an earlier task " +
                       std::to_string(*k));
    }
    k = t.num_fewshot;
  }
  return k.value_or(0);
}

nlohmann::ordered_json to_pythia_v0(const EvalRun& run) {
  using ojson = nlohmann::ordered_json;
  ojson results = ojson::object(), versions = ojson::object();
  for (const TaskResult& t : run.tasks) {
    ojson entry = ojson::object();
    for (const MetricValue& m : t.metrics) {
      const std::string name = v03_metric_name(t.task, m.name);
      entry[name] = m.value;
      if (m.stderr_value && std::isfinite(*m.stderr_value)) entry[name + "_stderr"] = *m.stderr_value;
    }
    results[v03_task_name(t.task)] = std::move(entry);
    versions[v03_task_name(t.task)] = v03_task_version(t.task, t.version);
  }
  const json& c = run.config;
  auto get = [&](const char* key, json fallback) -> ojson {
    const json& v = (c.is_object() && c.contains(key)) ? c.at(key) : fallback;
    return ojson::parse(v.dump());  // json -> ordered_json (scalars here)
  };
  ojson config = ojson::object();  // the published key order
  config["model"] = "hf-causal";
  config["model_args"] = get("model_args", "");
  config["num_fewshot"] = v03_num_fewshot(run);
  config["batch_size"] = get("batch_size", 1);
  config["device"] = get("device", "cpu");
  config["no_cache"] = true;
  config["limit"] = get("limit", nullptr);
  config["bootstrap_iters"] = get("bootstrap_iters", 100000);
  config["description_dict"] = ojson::object();
  ojson out = ojson::object();
  out["results"] = std::move(results);
  out["versions"] = std::move(versions);
  out["config"] = std::move(config);
  // Our addition after the published keys (#12): which weights produced these numbers.
  if (run.identity) out[kModelIdentityKey] = ojson::parse(to_json(*run.identity).dump());
  return out;
}

void write_json_atomic(const std::filesystem::path& path, const nlohmann::json& j) {
  // json.dumps(indent=2, ensure_ascii=False); invalid UTF-8 is replaced rather than thrown on.
  try {
    data::write_file_atomic(path, j.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
  } catch (const DataError& e) {
    throw ResultsFileError(e.what());
  }
}

void write_ordered_json_atomic(const std::filesystem::path& path, const nlohmann::ordered_json& j) {
  try {
    data::write_file_atomic(path, dump_python_json(j, 2));
  } catch (const DataError& e) {
    throw ResultsFileError(e.what());
  }
}

const char* to_string(ResultsLayout l) { return l == ResultsLayout::kLmEvalV04 ? "lm-eval" : "pythia-v0"; }

ResultsLayout parse_results_layout(const std::string& name) {
  if (name == "lm-eval") return ResultsLayout::kLmEvalV04;
  if (name == "pythia-v0") return ResultsLayout::kPythiaV0;
  throw UsageError("--format must be 'lm-eval' or 'pythia-v0', not '" + name + "'");
}

}  // namespace pythia::results

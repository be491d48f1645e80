// See results_reader.h. Layouts: spec tasks.md §1.7 (lm-eval v0.4 and v0.3), memorization.md
// §3.4-3.6 (index,score CSV; metadata JSON).
#include "results/results_reader.h"

#include "data/checkpoint_step.h"
#include "data/error.h"
#include "data/gzip_stream.h"
#include "results/json_bounded.h"
#include "results/published_evals.h"


#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace pythia::results {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The file's bytes (gunzipped when compressed), errors as ResultsFileError.
std::string read_bytes(const fs::path& path) {
  try {
    return data::read_whole_file(path);
  } catch (const DataError& e) {
    throw ResultsFileError(e.what());
  }
}

bool default_higher_is_better(const std::string& metric) {
  return metric.find("perplexity") == std::string::npos && metric != "ppl" &&
         metric.find("bits_per_byte") == std::string::npos;
}

std::optional<double> number_or_null(const json& v) {
  if (v.is_number()) return v.get<double>();
  return std::nullopt;
}

const json* first_of(const json& j, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    auto it = j.find(k);
    if (it != j.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

std::int64_t int_of(const json& j, std::initializer_list<const char*> keys, std::int64_t dflt,
                    const std::string& name, const std::string& where) {
  const json* v = first_of(j, keys);
  return (v != nullptr && v->is_number()) ? json_int(*v, name, where + "." + *keys.begin(), 0) : dflt;
}

std::string string_of(const json& j, std::initializer_list<const char*> keys) {
  const json* v = first_of(j, keys);
  return (v != nullptr && v->is_string()) ? v->get<std::string>() : std::string();
}

}  // namespace

json read_json_file(const fs::path& path) {
  return parse_json_bounded(read_bytes(path), path.string());
}

EvalFile parse_eval_results(const json& j, const std::string& name) {
  if (!j.is_object() || !j.contains("results") || !j["results"].is_object()) {
    throw ResultsFileError(name, "not an evaluation results file (no \"results\" object)");
  }
  EvalFile f;
  f.path = name;
  const json& results = j["results"];
  // v0.4 metric keys carry a filter suffix ("acc,none"); v0.3 keys do not.
  bool has_comma = false;
  for (const auto& [task, entry] : results.items()) {
    if (!entry.is_object()) throw ResultsFileError(name, "results." + task + " is not an object");
    for (const auto& [k, v] : entry.items()) {
      if (k.find(',') != std::string::npos) has_comma = true;
    }
  }
  f.layout = (has_comma || j.contains("n-samples") || j.contains("configs")) ? EvalLayout::kLmEvalV04
                                                                             : EvalLayout::kPythiaV03;
  const bool v04 = f.layout == EvalLayout::kLmEvalV04;
  const json empty = json::object();
  const json& versions = j.contains("versions") && j["versions"].is_object() ? j["versions"] : empty;
  const json& hib = j.contains("higher_is_better") && j["higher_is_better"].is_object()
                        ? j["higher_is_better"] : empty;
  const json& nsamples = j.contains("n-samples") && j["n-samples"].is_object() ? j["n-samples"] : empty;
  const json& nshot = j.contains("n-shot") && j["n-shot"].is_object() ? j["n-shot"] : empty;
  const json& configs = j.contains("configs") && j["configs"].is_object() ? j["configs"] : empty;

  for (const auto& [task, entry] : results.items()) {
    TaskResult t;
    t.task = v04 ? task : v04_task_name(task);  // v0.3 hendrycksTest-<subject> -> mmlu_<subject>
    if (versions.contains(task) && versions[task].is_number()) {
      t.version = versions[task].get<double>();
      // Writers convert it to an int (v03_task_version): 1e308 would be UB there (fuzz finding).
      if (!(t.version >= 0 && t.version < 1e9)) {
        throw ResultsFileError(name, "\"versions." + task + "\" must be a number in [0, 1e9), not " +
                                         versions[task].dump());
      }
    }
    if (nshot.contains(task) && nshot[task].is_number()) {
      t.num_fewshot = static_cast<int>(json_int(nshot[task], name, "n-shot." + task, 0,
                                                std::numeric_limits<int>::max()));
    }
    if (nsamples.contains(task) && nsamples[task].is_object()) {
      t.n_original = int_of(nsamples[task], {"original"}, 0, name, "n-samples." + task);
      t.n_effective = int_of(nsamples[task], {"effective"}, 0, name, "n-samples." + task);
    } else if (entry.contains("sample_len") && entry["sample_len"].is_number()) {
      t.n_effective = t.n_original = json_int(entry["sample_len"], name, "results." + task + ".sample_len", 0);
    }
    if (configs.contains(task)) t.task_config = configs[task];
    for (const auto& [key, value] : entry.items()) {
      std::string metric = key, filter = "none";
      if (v04) {
        const auto comma = key.find(',');
        if (comma == std::string::npos) continue;  // name, alias, sample_len, ...
        metric = key.substr(0, comma);
        filter = key.substr(comma + 1);
      }
      if (ends_with(metric, "_stderr")) continue;
      if (!value.is_number()) continue;
      MetricValue m;
      const std::string base = v04 ? metric : v04_metric_name(task, metric);
      m.name = filter == "none" ? base : base + "," + filter;
      m.value = value.get<double>();
      const std::string stderr_key = v04 ? metric + "_stderr," + filter : metric + "_stderr";
      if (entry.contains(stderr_key)) m.stderr_value = number_or_null(entry[stderr_key]);
      m.higher_is_better = default_higher_is_better(base);
      if (hib.contains(task) && hib[task].is_object() && hib[task].contains(base) &&
          hib[task][base].is_boolean()) {
        m.higher_is_better = hib[task][base].get<bool>();
      }
      t.metrics.push_back(std::move(m));
    }
    f.run.tasks.push_back(std::move(t));
  }
  if (j.contains("config")) f.run.config = j["config"];
  if (j.contains(kModelIdentityKey)) {
    try {
      f.run.identity = parse_model_identity(j[kModelIdentityKey], name);
    } catch (const ResultsFileError&) {
      // a malformed identity does not make the metrics unreadable; it is simply not shown
    }
  }
  return f;
}

EvalFile read_eval_results(const fs::path& path) {
  EvalFile f = parse_eval_results(read_json_file(path), path.string());
  f.path = path;
  return f;
}


std::string revision_of_eval(const EvalFile& f, const std::string& folder_key) {
  const json& c = f.run.config;
  if (c.is_object()) {
    if (c.contains("model_revision") && c["model_revision"].is_string() &&
        c["model_revision"].get<std::string>() != "main") {
      return c["model_revision"].get<std::string>();
    }
    if (c.contains("model_args") && c["model_args"].is_string()) {
      const std::string args = c["model_args"].get<std::string>();
      const auto p = args.find("revision=");
      if (p != std::string::npos) {
        const auto e = args.find(',', p);
        return args.substr(p + 9, e == std::string::npos ? std::string::npos : e - p - 9);
      }
    }
  }
  const auto slash = folder_key.rfind('/');
  return slash == std::string::npos ? folder_key : folder_key.substr(slash + 1);
}

ResultTree merge_result_trees(const std::vector<ResultTree>& trees, const std::vector<std::string>& names) {
  ResultTree out;
  for (std::size_t i = 0; i < trees.size(); ++i) {
    if (i == 0) out.root = trees[i].root;
    out.published = out.published || trees[i].published;
    const std::string prefix = names.at(i) + "/";
    for (const auto& [k, v] : trees[i].evals) out.evals[prefix + k] = v;
    for (const auto& [k, v] : trees[i].memorizations) out.memorizations[prefix + k] = v;
  }
  return out;
}

ResultTree read_result_tree(const fs::path& root) {
  ResultTree tree;
  tree.root = root;
  std::error_code ec;
  if (!fs::exists(root, ec)) throw ResultsFileError(root.string(), "does not exist");
  auto add_file = [&](const fs::path& p, const std::string& key, bool in_tree) {
    const std::string fname = p.filename().string();
    if (fname == "memorization.json" || fname == "memorization.json.gz") {
      tree.memorizations[key] = read_memorization(p);
      return;
    }
    const json j = read_json_file(p);
    if (j.is_object() && j.contains("results") && j.contains("versions")) {
      EvalFile f = parse_eval_results(j, p.string());
      f.path = p;
      if (in_tree && parse_published_file_name(fname)) {
        (void)eval_checkpoint(f, key);  // refuses a name that contradicts the file
        tree.published = true;
        tree.evals[key == "." ? fname : key + "/" + fname] = std::move(f);
        return;
      }
      auto it = tree.evals.find(key);
      // Several files in one folder: prefer the v0.4 layout (it has every metric and n-samples),
      // then the newest name (lm-eval's results_<timestamp>.json).
      const auto rank = [](const EvalFile& e) {
        return std::make_pair(e.layout == EvalLayout::kLmEvalV04 ? 1 : 0, e.path.filename().string());
      };
      if (it == tree.evals.end() || rank(it->second) < rank(f)) tree.evals[key] = std::move(f);
    } else if (j.is_object() && j.contains("rows_memorized")) {
      MemorizationResult m = parse_memorization(j, p.string());
      m.path = p;
      tree.memorizations[key] = std::move(m);
    }
  };
  if (fs::is_regular_file(root)) {
    add_file(root, ".", false);
    if (tree.evals.empty() && tree.memorizations.empty()) {
      throw ResultsFileError(root.string(), "neither an eval results file nor a memorization.json");
    }
    return tree;
  }
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string n = it->path().filename().string();
    if (ends_with(n, ".json") || ends_with(n, ".json.gz")) files.push_back(it->path());
  }
  if (ec) throw ResultsFileError(root.string(), "cannot list: " + ec.message());
  std::sort(files.begin(), files.end());
  for (const fs::path& p : files) {
    std::string key = p.parent_path().lexically_relative(root).generic_string();
    if (key.empty()) key = ".";
    add_file(p, key, true);
  }
  return tree;
}

}  // namespace pythia::results

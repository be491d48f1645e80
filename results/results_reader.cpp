// See results_reader.h. Layouts: spec tasks.md §1.7 (lm-eval v0.4 and v0.3), memorization.md
// §3.4-3.6 (index,score CSV; metadata JSON).
#include "results/results_reader.h"

#include <zlib.h>

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

std::string read_bytes(const fs::path& path) {
  const std::string p = path.string();
  if (ends_with(p, ".gz")) {
    gzFile gz = gzopen(p.c_str(), "rb");
    if (gz == nullptr) throw ResultsFileError(p, "cannot open");
    std::string out;
    char buf[1 << 16];
    for (;;) {
      const int n = gzread(gz, buf, sizeof buf);
      if (n < 0) {
        int errnum = 0;
        const std::string msg = gzerror(gz, &errnum);
        gzclose(gz);
        throw ResultsFileError(p, "gzip read failed: " + msg);
      }
      if (n == 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    gzclose(gz);
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ResultsFileError(p, "cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw ResultsFileError(p, "read failed");
  return ss.str();
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

std::int64_t int_of(const json& j, std::initializer_list<const char*> keys, std::int64_t dflt) {
  const json* v = first_of(j, keys);
  return (v != nullptr && v->is_number()) ? v->get<std::int64_t>() : dflt;
}

std::string string_of(const json& j, std::initializer_list<const char*> keys) {
  const json* v = first_of(j, keys);
  return (v != nullptr && v->is_string()) ? v->get<std::string>() : std::string();
}

}  // namespace

json read_json_file(const fs::path& path) {
  const std::string bytes = read_bytes(path);
  try {
    return json::parse(bytes);
  } catch (const json::parse_error& e) {
    throw ResultsFileError(path.string(), std::string("not valid JSON: ") + e.what());
  }
}

std::optional<std::int64_t> step_of_revision(const std::string& revision) {
  const auto pos = revision.rfind("step");
  if (pos == std::string::npos) return std::nullopt;
  const char* b = revision.data() + pos + 4;
  const char* e = revision.data() + revision.size();
  if (b == e) return std::nullopt;
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || p != e) return std::nullopt;
  return v;
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
    t.task = task;
    if (versions.contains(task) && versions[task].is_number()) t.version = versions[task].get<double>();
    if (nshot.contains(task) && nshot[task].is_number()) t.num_fewshot = nshot[task].get<int>();
    if (nsamples.contains(task) && nsamples[task].is_object()) {
      t.n_original = int_of(nsamples[task], {"original"}, 0);
      t.n_effective = int_of(nsamples[task], {"effective"}, 0);
    } else if (entry.contains("sample_len") && entry["sample_len"].is_number()) {
      t.n_effective = t.n_original = entry["sample_len"].get<std::int64_t>();
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
  return f;
}

EvalFile read_eval_results(const fs::path& path) {
  EvalFile f = parse_eval_results(read_json_file(path), path.string());
  f.path = path;
  return f;
}

MemorizationResult parse_memorization(const json& j, const std::string& name) {
  if (!j.is_object()) throw ResultsFileError(name, "memorization result is not a JSON object");
  MemorizationResult m;
  m.path = name;
  m.raw = j;
  m.model = string_of(j, {"model", "model_name"});
  m.revision = string_of(j, {"revision", "checkpoint"});
  if (const json* s = first_of(j, {"step"}); s != nullptr && s->is_number()) {
    m.step = s->get<std::int64_t>();
  } else {
    m.step = step_of_revision(m.revision);
  }
  const json* range = first_of(j, {"row_range", "rows"});
  if (range != nullptr && range->is_array() && range->size() == 2) {
    m.row_begin = (*range)[0].get<std::int64_t>();
    m.row_end = (*range)[1].get<std::int64_t>();
  } else if (range != nullptr && range->is_object()) {
    m.row_begin = int_of(*range, {"begin", "start", "first"}, 0);
    m.row_end = int_of(*range, {"end", "stop"}, 0);
  } else {
    m.row_begin = int_of(j, {"row_begin", "row_start", "start_index"}, 0);
    m.row_end = int_of(j, {"row_end", "end_index"}, 0);
  }
  m.rows_scanned = int_of(j, {"rows_scanned", "rows_evaluated", "num_rows"}, m.row_end - m.row_begin);
  if (m.row_end == 0 && m.rows_scanned > 0) m.row_end = m.row_begin + m.rows_scanned;
  m.rows_memorized = int_of(j, {"rows_memorized", "memorized_rows", "num_memorized"}, 0);
  if (const json* s = first_of(j, {"mean_score"}); s != nullptr) m.mean_score = number_or_null(*s);
  if (const json* h = first_of(j, {"histogram", "score_histogram"}); h != nullptr && h->is_array()) {
    for (const json& v : *h) m.histogram.push_back(v.is_number() ? v.get<std::int64_t>() : 0);
  }
  if (const json* idx = first_of(j, {"memorized_indices"}); idx != nullptr && idx->is_array()) {
    for (const json& v : *idx) {
      if (!v.is_number_integer()) throw ResultsFileError(name, "memorized_indices holds a non-integer");
      m.memorized_indices.push_back(v.get<std::int64_t>());
    }
    std::sort(m.memorized_indices.begin(), m.memorized_indices.end());
  }
  if (const json* nt = first_of(j, {"near_tie_rows", "near_ties", "fragile_rows"}); nt != nullptr) {
    if (nt->is_number()) m.near_tie_rows = nt->get<std::int64_t>();
    if (nt->is_array()) m.near_tie_rows = static_cast<std::int64_t>(nt->size());
  }
  if (const json* d = first_of(j, {"data_prefix", "data"}); d != nullptr) {
    if (d->is_string()) m.data_prefix = d->get<std::string>();
    if (d->is_object()) m.data_prefix = string_of(*d, {"prefix", "path"});
  }
  if (m.data_prefix.empty()) {
    if (const json* files = first_of(j, {"data_files"}); files != nullptr && files->is_array() &&
                                                        !files->empty()) {
      const json& f0 = (*files)[0];
      std::string p = f0.is_string() ? f0.get<std::string>() : string_of(f0, {"path", "name"});
      for (const char* ext : {".idx", ".bin"}) {
        if (ends_with(p, ext)) p.resize(p.size() - 4);
      }
      m.data_prefix = p;
    }
  }
  return m;
}

MemorizationResult read_memorization(const fs::path& path) {
  MemorizationResult m = parse_memorization(read_json_file(path), path.string());
  m.path = path;
  for (const char* name : {"memorization_scores.csv.gz", "memorization_scores.csv"}) {
    const fs::path p = path.parent_path() / name;
    if (fs::exists(p)) {
      m.scores_path = p;
      break;
    }
  }
  return m;
}

std::vector<std::pair<std::int64_t, double>> read_memorization_scores(const fs::path& path) {
  const std::string bytes = read_bytes(path);
  std::vector<std::pair<std::int64_t, double>> out;
  std::size_t pos = 0, line_no = 0;
  while (pos < bytes.size()) {
    std::size_t end = bytes.find('\n', pos);
    if (end == std::string::npos) end = bytes.size();
    std::string line = bytes.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line_no == 1 && line.rfind("index", 0) == 0) continue;  // header
    const auto comma = line.find(',');
    if (comma == std::string::npos) {
      throw ResultsFileError(path.string() + ":" + std::to_string(line_no), "expected index,score");
    }
    std::int64_t index = 0;
    const auto r = std::from_chars(line.data(), line.data() + comma, index);
    const std::size_t comma2 = line.find(',', comma + 1);
    const std::string score_text =
        line.substr(comma + 1, comma2 == std::string::npos ? std::string::npos : comma2 - comma - 1);
    char* endp = nullptr;
    const double score = std::strtod(score_text.c_str(), &endp);
    if (r.ec != std::errc() || r.ptr != line.data() + comma || score_text.empty() ||
        endp != score_text.c_str() + score_text.size()) {
      throw ResultsFileError(path.string() + ":" + std::to_string(line_no),
                             "malformed index,score line: " + line.substr(0, 80));
    }
    out.emplace_back(index, score);
  }
  return out;
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

ResultTree read_result_tree(const fs::path& root) {
  ResultTree tree;
  tree.root = root;
  std::error_code ec;
  if (!fs::exists(root, ec)) throw ResultsFileError(root.string(), "does not exist");
  auto add_file = [&](const fs::path& p, const std::string& key) {
    const std::string fname = p.filename().string();
    if (fname == "memorization.json" || fname == "memorization.json.gz") {
      tree.memorizations[key] = read_memorization(p);
      return;
    }
    const json j = read_json_file(p);
    if (j.is_object() && j.contains("results") && j.contains("versions")) {
      EvalFile f = parse_eval_results(j, p.string());
      f.path = p;
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
    add_file(root, ".");
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
    add_file(p, key);
  }
  return tree;
}

}  // namespace pythia::results

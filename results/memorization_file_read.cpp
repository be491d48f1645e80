// Reading the files of results/memorization_file.h (the writer is memorization_file.cpp).
#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "data/checkpoint_step.h"
#include "data/error.h"
#include "data/gzip_stream.h"
#include "results/eval_results.h"
#include "results/json_bounded.h"
#include "results/memorization_file.h"

namespace pythia::results {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const json* present(const json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

template <typename T>
T get_or(const json& j, const char* key, T dflt, const std::string& name) {
  const json* v = present(j, key);
  if (v == nullptr) return dflt;
  try {
    return v->get<T>();
  } catch (const json::exception&) {
    throw ResultsFileError(name, std::string("key '") + key + "' has the wrong type");
  }
}

// Integers go through json_int: get<std::int64_t>() on 1e300 would be UB (fuzz finding F1).
template <>
std::int64_t get_or<std::int64_t>(const json& j, const char* key, std::int64_t dflt, const std::string& name) {
  const json* v = present(j, key);
  return v == nullptr ? dflt : json_int(*v, name, key);
}

template <>
std::vector<std::int64_t> get_or<std::vector<std::int64_t>>(const json& j, const char* key,
                                                            std::vector<std::int64_t> dflt,
                                                            const std::string& name) {
  const json* v = present(j, key);
  if (v == nullptr) return dflt;
  if (!v->is_array()) throw ResultsFileError(name, std::string("key '") + key + "' has the wrong type");
  std::vector<std::int64_t> out;
  out.reserve(v->size());
  for (const json& e : *v) out.push_back(json_int(e, name, key + std::string("[]")));
  return out;
}

std::string read_text(const fs::path& path) {
  try {
    return data::read_whole_file(path);
  } catch (const DataError& e) {
    throw ResultsFileError(e.what());
  }
}

}  // namespace

nlohmann::ordered_json read_memorization_document(const fs::path& path) {
  nlohmann::ordered_json j;
  try {
    j = parse_json_bounded<nlohmann::ordered_json>(data::read_whole_file(path), path.string());
  } catch (const ResultsFileError& e) {
    throw DataError(std::string(e.what()) + " (not a memorization.json)");
  }
  if (!j.is_object()) throw DataError(path.string(), "not a memorization.json (not a JSON object)");
  return j;
}

MemorizationResult parse_memorization(const json& j, const std::string& name) {
  if (!j.is_object()) throw ResultsFileError(name, "memorization result is not a JSON object");
  MemorizationResult m;
  m.path = name;
  m.raw = j;
  m.model = get_or<std::string>(j, "model", "", name);
  m.revision = get_or<std::string>(j, "revision", "", name);
  if (const json* s = present(j, "step")) {
    m.step = get_or<std::int64_t>(j, "step", 0, name);
    (void)s;
  } else {
    m.step = data::step_of_revision(m.revision);
  }
  const auto range = get_or<std::vector<std::int64_t>>(j, "row_range", {}, name);
  if (range.size() == 2) {
    m.row_begin = range[0];
    m.row_end = range[1];
  } else if (!range.empty()) {
    throw ResultsFileError(name, "row_range must be [begin, end]");
  }
  m.rows_scanned = get_or<std::int64_t>(j, "rows_scanned", m.row_end - m.row_begin, name);
  if (m.row_end == 0 && m.rows_scanned > 0) m.row_end = m.row_begin + m.rows_scanned;
  m.rows_memorized = get_or<std::int64_t>(j, "rows_memorized", 0, name);
  if (const json* s = present(j, "mean_score"); s != nullptr && s->is_number()) m.mean_score = s->get<double>();
  m.histogram = get_or<std::vector<std::int64_t>>(j, "histogram", {}, name);
  m.memorized_indices = get_or<std::vector<std::int64_t>>(j, "memorized_indices", {}, name);
  std::sort(m.memorized_indices.begin(), m.memorized_indices.end());
  if (const json* nt = present(j, "near_tie_rows"); nt != nullptr && nt->is_array()) {
    m.near_tie_rows = static_cast<std::int64_t>(nt->size());
  }
  if (const json* d = present(j, "data"); d != nullptr && d->is_object()) {
    m.data_prefix = get_or<std::string>(*d, "prefix", "", name);
  }
  return m;
}

MemorizationResult read_memorization(const fs::path& path) {
  const json j = parse_json_bounded(read_text(path), path.string());
  MemorizationResult m = parse_memorization(j, path.string());
  m.path = path;
  for (const char* name : {kScoresCsv, "memorization_scores.csv"}) {
    const fs::path p = path.parent_path() / name;
    if (fs::exists(p)) {
      m.scores_path = p;
      break;
    }
  }
  return m;
}

std::vector<std::pair<std::int64_t, double>> read_memorization_scores(const fs::path& path) {
  const std::string bytes = read_text(path);
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

}  // namespace pythia::results

// See memorized_evals.h.
#include "results/memorized_evals.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "data/error.h"
#include "data/gzip_stream.h"
#include "data/jsonl_reader.h"
#include "results/eval_results.h"

namespace pythia::results {

std::string memorized_evals_line(const MemorizedEvalRow& r) {
  std::string line = "{\"index\": " + std::to_string(r.index) + ", \"tokens\": [";
  for (std::size_t i = 0; i < r.tokens.size(); ++i) line += (i ? ", " : "") + std::to_string(r.tokens[i]);
  return line + "], \"__index_level_0__\": " + std::to_string(r.index) + "}\n";
}

void write_memorized_evals(const std::filesystem::path& path, const std::vector<MemorizedEvalRow>& rows) {
  try {
    data::AtomicGzipWriter out(path);
    for (const auto& r : rows) out.write(memorized_evals_line(r));
    out.commit();
  } catch (const DataError& e) {
    throw ResultsFileError(e.what());
  }
}

void for_each_memorized_eval(const std::filesystem::path& path,
                             const std::function<void(std::int64_t line, const MemorizedEvalRow&)>& fn) {
  try {
    data::for_each_jsonl(path, [&](std::int64_t line, const nlohmann::json& j) {
      const std::string where = path.string() + ":" + std::to_string(line);
      if (!j.is_object() || !j.contains("index") || !j["index"].is_number_integer() || j["index"].get<std::int64_t>() < 0) {
        throw ResultsFileError(where, "expected an object with a non-negative integer \"index\"");
      }
      MemorizedEvalRow r;
      r.index = j["index"].get<std::int64_t>();
      if (j.contains("__index_level_0__") && j["__index_level_0__"] != j["index"]) {
        throw ResultsFileError(where, "__index_level_0__ differs from index");
      }
      if (j.contains("tokens")) {
        if (!j["tokens"].is_array()) throw ResultsFileError(where, "\"tokens\" is not an array");
        for (const auto& t : j["tokens"]) {
          if (!t.is_number_integer()) throw ResultsFileError(where, "\"tokens\" holds a non-integer");
          r.tokens.push_back(t.get<std::int64_t>());
        }
      }
      fn(line, r);
    });
  } catch (const DataError& e) {
    throw ResultsFileError(e.what());
  }
}

std::vector<MemorizedEvalRow> read_memorized_evals(const std::filesystem::path& path) {
  std::vector<MemorizedEvalRow> rows;
  for_each_memorized_eval(path, [&](std::int64_t, const MemorizedEvalRow& r) { rows.push_back(r); });
  return rows;
}

MemorizedSetComparison compare_memorized_sets(std::vector<std::int64_t> ours, std::vector<std::int64_t> theirs) {
  for (auto* v : {&ours, &theirs}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  MemorizedSetComparison c;
  c.ours = ours.size();
  c.theirs = theirs.size();
  std::size_t i = 0, j = 0;
  while (i < ours.size() || j < theirs.size()) {
    if (j == theirs.size() || (i < ours.size() && ours[i] < theirs[j])) {
      ++c.only_ours;
      if (c.only_ours_sample.size() < 10) c.only_ours_sample.push_back(ours[i]);
      ++i;
    } else if (i == ours.size() || theirs[j] < ours[i]) {
      ++c.only_theirs;
      if (c.only_theirs_sample.size() < 10) c.only_theirs_sample.push_back(theirs[j]);
      ++j;
    } else {
      ++c.both;
      ++i;
      ++j;
    }
  }
  return c;
}

std::string format_memorized_comparison(const MemorizedSetComparison& c, const std::string& ours_name,
                                        const std::string& theirs_name) {
  auto sample = [](const std::vector<std::int64_t>& v) {
    std::string s;
    for (auto x : v) s += (s.empty() ? "" : " ") + std::to_string(x);
    return s.empty() ? std::string("-") : s;
  };
  char buf[512];
  std::string out = "memorized rows: ours " + ours_name + ", theirs " + theirs_name + "\n";
  std::snprintf(buf, sizeof buf,
                "  ours         %llu\n  theirs       %llu\n  both         %llu\n  only ours    %llu   (first: %s)\n"
                "  only theirs  %llu   (first: %s)\n  precision of ours vs theirs %.6f, recall %.6f\n",
                static_cast<unsigned long long>(c.ours), static_cast<unsigned long long>(c.theirs),
                static_cast<unsigned long long>(c.both), static_cast<unsigned long long>(c.only_ours),
                sample(c.only_ours_sample).c_str(), static_cast<unsigned long long>(c.only_theirs),
                sample(c.only_theirs_sample).c_str(), c.precision(), c.recall());
  return out + buf;
}

}  // namespace pythia::results

// See canaries.h.
#include "results/canaries.h"

#include <map>
#include <unordered_map>

#include "results/eval_results.h"
#include "results/results_reader.h"

namespace pythia::results {

CanaryManifest read_canary_manifest(const std::filesystem::path& path) {
  const nlohmann::json j = read_json_file(path);
  CanaryManifest m;
  m.path = path;
  if (!j.is_object() || !j.contains("canaries") || !j["canaries"].is_array()) {
    throw ResultsFileError(path.string(), "not a canary manifest (no \"canaries\" array)");
  }
  for (const auto& c : j["canaries"]) {
    if (!c.is_object() || !c.contains("duplicates") || !c.contains("indices") ||
        !c["duplicates"].is_number_integer() || !c["indices"].is_array()) {
      throw ResultsFileError(path.string(), "canary entry without integer duplicates / indices");
    }
    Canary k;
    k.id = c.value("canary", static_cast<int>(m.canaries.size()));
    k.duplicates = c["duplicates"].get<int>();
    for (const auto& i : c["indices"]) {
      if (!i.is_number_integer()) throw ResultsFileError(path.string(), "non-integer canary index");
      k.indices.push_back(i.get<std::int64_t>());
    }
    m.canaries.push_back(std::move(k));
  }
  return m;
}

std::vector<DuplicationStats> memorization_by_duplication(
    const CanaryManifest& manifest, const std::vector<std::pair<std::int64_t, double>>& scores) {
  std::unordered_map<std::int64_t, double> by_row;
  by_row.reserve(scores.size());
  for (const auto& [i, s] : scores) by_row[i] = s;
  std::map<int, DuplicationStats> acc;
  std::map<int, double> sums;
  for (const Canary& c : manifest.canaries) {
    DuplicationStats& d = acc[c.duplicates];
    d.duplicates = c.duplicates;
    int scored = 0;
    double canary_sum = 0;
    bool memorized = false;
    for (std::int64_t row : c.indices) {
      const auto it = by_row.find(row);
      if (it == by_row.end()) continue;
      ++scored;
      ++d.rows_evaluated;
      canary_sum += it->second;
      if (it->second == 1.0) {
        ++d.rows_memorized;
        memorized = true;
      }
    }
    if (scored > 0) {
      sums[c.duplicates] += canary_sum / scored;
      ++d.canaries_seen;
      if (memorized) ++d.canaries_memorized;
    }
  }
  std::vector<DuplicationStats> out;
  for (auto& [dup, d] : acc) {
    if (d.canaries_seen > 0) d.mean_score = sums[dup] / static_cast<double>(d.canaries_seen);
    out.push_back(d);
  }
  return out;
}

}  // namespace pythia::results

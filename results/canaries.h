// Planted-canary manifests (e.g. shared/fixtures/mini-pile/canaries.json: canaries[] with
// `canary`, `duplicates`, `indices` = the row indices of its copies) and memorization by
// duplication count computed from per-row scores (memorization_scores.csv[.gz]).
//
// Definitions (as shared/golden/mini-pythia/memorization_summary.json "canaries_by_duplicates"):
// for a duplication count d, over canaries with at least one copy among the scored rows:
// canaries_seen, canaries_memorized (some scored copy has score 1.0), rows_evaluated (scored
// copies), rows_memorized (copies with score 1.0), mean_score: the mean over the seen canaries of
// each canary's mean score over its scored copies (each canary weighs 1, however many copies were
// scanned — as the reference; copies are identical rows, so their scores agree).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

namespace pythia::results {

struct Canary {
  int id = 0;
  int duplicates = 0;
  std::vector<std::int64_t> indices;
};

struct CanaryManifest {
  std::filesystem::path path;
  std::vector<Canary> canaries;
};

// Throws ResultsFileError naming the file when it is not a canary manifest.
CanaryManifest read_canary_manifest(const std::filesystem::path& path);

struct DuplicationStats {
  int duplicates = 0;
  int canaries_seen = 0;
  int canaries_memorized = 0;
  std::int64_t rows_evaluated = 0;
  std::int64_t rows_memorized = 0;
  std::optional<double> mean_score;  // nullopt when no copy was scored
};

// One entry per duplication count present in the manifest, ascending; counts with no scored copy
// are included with canaries_seen 0.
std::vector<DuplicationStats> memorization_by_duplication(
    const CanaryManifest& manifest, const std::vector<std::pair<std::int64_t, double>>& scores);

}  // namespace pythia::results

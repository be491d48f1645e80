#include "memorization/merge.h"

#include "memorization/journal.h"

#include "data/atomic_file.h"
#include "data/error.h"
#include "data/gzip_stream.h"


#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "data/error.h"
#include "results/memorization_file.h"
#include "results/output_layout.h"

namespace pythia::memorization {
using data::AtomicGzipWriter;
using data::write_file_atomic;
using results::extended_csv_header;
using results::kExtendedCsv;
using results::kMemorizationJson;
using results::kScoresCsv;
using results::pretty_json;
using results::ScanSummary;
using results::set_summary_fields;
using results::summary_from_json;
namespace fs = std::filesystem;
using J = nlohmann::ordered_json;

namespace {

// Keys that legitimately differ between shards (and are recomputed by the merge).
const std::set<std::string> kPerShardKeys = {
    "row_range",     "rows_scanned",      "rows_memorized", "rows_flagged_nan",        "rows_unseen",
    "rows_eod_in_target", "mean_score",   "histogram",      "memorized_indices",       "near_tie_rows",
    "memorized_near_tie_rows", "flagged_nan_rows", "run",   "timing"};

// Streams a gzip file into `out`, skipping its first line when `skip_header`.
void copy_gzip(const fs::path& path, data::AtomicGzipWriter& out, bool skip_header) {
  data::GzipReader in(path);
  char buf[1 << 16];
  bool skipping = skip_header;
  while (const std::size_t n = in.read(buf, sizeof buf)) {
    std::string_view chunk(buf, n);
    if (skipping) {
      const auto nl = chunk.find('\n');
      if (nl == std::string_view::npos) continue;
      chunk.remove_prefix(nl + 1);
      skipping = false;
    }
    out.write(chunk);
  }
}

}  // namespace

MergeSummary merge_memorize_shards(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw DataError(dir.string(), "not a folder");
  std::map<std::uint64_t, fs::path> shards;
  std::uint64_t count = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto kn = results::parse_shard_folder(e.path().filename().string());
    if (!e.is_directory() || !kn) continue;
    const auto [k, n] = *kn;
    if (count != 0 && n != count) {
      throw DataError(dir.string(), "holds shards of different counts (" + std::to_string(count) + " and " +
                                        std::to_string(n) + ")");
    }
    count = n;
    shards[k] = e.path();
  }
  if (shards.empty()) throw DataError(dir.string(), "holds no shard-K-of-N folders");
  std::string missing;
  for (std::uint64_t k = 0; k < count; ++k) {
    if (!shards.count(k)) missing += " " + std::to_string(k);
  }
  if (!missing.empty()) throw DataError(dir.string(), "shards missing (of " + std::to_string(count) + "):" + missing);

  std::vector<J> docs;
  for (const auto& [k, path] : shards) {
    const fs::path jp = path / kMemorizationJson;
    if (fs::exists(path / kJournalFile) || !fs::exists(jp)) {
      throw DataError(path.string(), "shard " + std::to_string(k) + " is not finished (re-run it to resume)");
    }
    docs.push_back(results::read_memorization_document(jp));
  }
  // One configuration, tiling ranges.
  for (std::size_t k = 1; k < docs.size(); ++k) {
    for (const auto& [key, value] : docs[0].items()) {
      if (kPerShardKeys.count(key)) continue;
      if (!docs[k].contains(key) || docs[k][key] != value) {
        throw DataError((shards[k] / kMemorizationJson).string(),
                        "key '" + key + "' differs from shard 0: not the same scan");
      }
    }
    if (docs[k]["row_range"][0] != docs[k - 1]["row_range"][1]) {
      throw DataError((shards[k] / kMemorizationJson).string(), "row range does not continue shard " +
                                                                     std::to_string(k - 1) + "'s");
    }
  }

  const bool exact = docs[0].value("score_mode", "") == "exact";
  const bool extended = docs[0]["files"].value("extended", J(nullptr)).is_string();
  ScanSummary total = summary_from_json(docs[0], (shards[0] / kMemorizationJson).string());
  double seconds = docs[0]["timing"].value("seconds", 0.0);
  for (std::size_t k = 1; k < docs.size(); ++k) {
    total.append(summary_from_json(docs[k], (shards[k] / kMemorizationJson).string()));
    seconds += docs[k]["timing"].value("seconds", 0.0);
  }

  if (exact) {
    AtomicGzipWriter csv(dir / kScoresCsv);
    for (const auto& [k, path] : shards) copy_gzip(path / kScoresCsv, csv, false);
    csv.commit();
  }
  if (extended) {
    AtomicGzipWriter ext(dir / kExtendedCsv);
    ext.write(extended_csv_header());
    for (const auto& [k, path] : shards) copy_gzip(path / kExtendedCsv, ext, true);
    ext.commit();
  }
  J out = docs[0];
  out["row_range"] = J::array({docs.front()["row_range"][0], docs.back()["row_range"][1]});
  set_summary_fields(out, total, exact);
  J merged_from = J::array();
  for (const auto& [k, path] : shards) merged_from.push_back(path.filename().string());
  out["run"] = J{{"merged_from", merged_from}, {"shards", count}};
  out["timing"] = J{{"shard_seconds_total", seconds}};
  write_file_atomic(dir / kMemorizationJson, pretty_json(out));
  return {count, total.rows_scanned, total.rows_memorized};
}

}  // namespace pythia::memorization

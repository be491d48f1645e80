#include "memorization/merge.h"

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "data/atomic_file.h"
#include "data/error.h"
#include "data/gzip_stream.h"
#include "memorization/journal.h"
#include "memorization/token_stats.h"
#include "results/memorization_file.h"
#include "results/memorized_evals.h"
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

using Range = std::pair<std::uint64_t, std::uint64_t>;

std::string range_text(Range r) { return "[" + std::to_string(r.first) + ", " + std::to_string(r.second) + ")"; }

// A shard's "row_range", checked to be [begin, end) with begin <= end and end - begin rows_scanned.
Range row_range_of(const J& doc, const fs::path& file) {
  const J& r = doc.contains("row_range") ? doc["row_range"] : J();
  if (!r.is_array() || r.size() != 2 || !r[0].is_number_unsigned() || !r[1].is_number_unsigned() ||
      r[0].get<std::uint64_t>() > r[1].get<std::uint64_t>()) {
    throw DataError(file.string(), "no valid \"row_range\" [begin, end]");
  }
  const Range range{r[0].get<std::uint64_t>(), r[1].get<std::uint64_t>()};
  if (!doc.contains("rows_scanned") || doc["rows_scanned"] != range.second - range.first) {
    throw DataError(file.string(), "rows_scanned is not the size of its row_range " + range_text(range));
  }
  if (!doc.contains("files") || !doc["files"].is_object()) throw DataError(file.string(), "no \"files\" object");
  return range;
}

// Streams every shard's memorized_evals.jsonl.gz into `out`, checking that shard k's file lists
// exactly the rows its memorization.json says it memorized, in order, with `width` tokens each.
void merge_memorized_evals(const std::map<std::uint64_t, fs::path>& shards, const std::vector<J>& docs,
                           std::size_t width, data::AtomicGzipWriter& out) {
  for (const auto& [k, dir] : shards) {
    const fs::path file = dir / results::kMemorizedEvalsFile;
    if (!fs::exists(file)) throw DataError(file.string(), "missing, but the shard's memorization.json lists it");
    const ScanSummary s = summary_from_json(docs[k], (dir / kMemorizationJson).string());
    std::size_t n = 0;
    results::for_each_memorized_eval(file, [&](std::int64_t line, const results::MemorizedEvalRow& row) {
      const std::string where = file.string() + ":" + std::to_string(line);
      if (n >= s.memorized.size() || static_cast<std::uint64_t>(row.index) != s.memorized[n]) {
        throw DataError(where, "row " + std::to_string(row.index) + " is not the shard's next memorized row (" +
                                   (n < s.memorized.size() ? std::to_string(s.memorized[n]) : "none left") +
                                   " in memorization.json)");
      }
      if (row.tokens.size() != width) {
        throw DataError(where, std::to_string(row.tokens.size()) + " tokens, expected prefix_len + continuation_len = " +
                                   std::to_string(width));
      }
      out.write(results::memorized_evals_line(row));
      ++n;
    });
    if (n != s.memorized.size()) {
      throw DataError(file.string(), "holds " + std::to_string(n) + " rows, the shard memorized " +
                                         std::to_string(s.memorized.size()));
    }
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
  std::vector<Range> ranges;
  for (const auto& [k, path] : shards) {
    const fs::path jp = path / kMemorizationJson;
    if (fs::exists(path / kJournalFile) || !fs::exists(jp)) {
      throw DataError(path.string(), "shard " + std::to_string(k) + " is not finished (re-run it to resume)");
    }
    docs.push_back(results::read_memorization_document(jp));
    ranges.push_back(row_range_of(docs.back(), jp));
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
    if (ranges[k].first != ranges[k - 1].second) {
      throw DataError((shards[k] / kMemorizationJson).string(),
                      "rows " + range_text(ranges[k]) +
                          (ranges[k].first < ranges[k - 1].second ? " overlap" : " leave a gap after") + " shard " +
                          std::to_string(k - 1) + "'s " + range_text(ranges[k - 1]) + ": not one sharded scan");
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

  // The checked files first: a shard that fails a check leaves no merged file but these.
  const J& files = docs[0]["files"];
  const int P = docs[0].value("prefix_len", 0), L = docs[0].value("continuation_len", 0);
  if (files.value("token_stats", J(nullptr)).is_string()) {
    std::vector<TokenStatsPart> parts;
    for (const auto& [k, path] : shards) {
      parts.push_back({path / kTokenStatsFile, ranges[k].first, ranges[k].second});
    }
    merge_token_stats_files(parts, P, L, dir / kTokenStatsFile);
  }
  if (files.value("memorized_evals", J(nullptr)).is_string()) {
    AtomicGzipWriter evals(dir / results::kMemorizedEvalsFile);
    merge_memorized_evals(shards, docs, static_cast<std::size_t>(P + L), evals);
    evals.commit();
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
  out["row_range"] = J::array({ranges.front().first, ranges.back().second});
  set_summary_fields(out, total, exact);
  J merged_from = J::array();
  for (const auto& [k, path] : shards) merged_from.push_back(path.filename().string());
  out["run"] = J{{"merged_from", merged_from}, {"shards", count}};
  out["timing"] = J{{"shard_seconds_total", seconds}};
  write_file_atomic(dir / kMemorizationJson, pretty_json(out));
  return {count, total.rows_scanned, total.rows_memorized};
}

}  // namespace pythia::memorization

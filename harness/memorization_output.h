// The files a memorization scan writes (spec memorization.md §3.4, §3.6), and how:
//   memorization_scores.csv.gz           `index,score` per scanned row, increasing index, no header,
//                                        score as Python float repr (format_score); a NaN-flagged
//                                        row is written `index,nan`. Exact-score mode only.
//   memorization_scores_extended.csv.gz  (optional) header `index,score,memorized,first_mismatch,
//                                        min_margin,fragile,eod_in_target,unseen`
//   memorization.json                    metadata and summary (keys: see memorization_json())
// gzip: zlib level 6, no file name, mtime 0, input fed in fixed 64 KiB chunks, so equal text gives
// byte-equal files (what `merge` relies on). Files appear atomically: written to a temporary name
// in the same folder, fsync'ed, renamed, then the folder is fsync'ed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/memorization_scanner.h"

namespace pythia::harness {

inline constexpr const char* kScoresCsv = "memorization_scores.csv.gz";
inline constexpr const char* kExtendedCsv = "memorization_scores_extended.csv.gz";
inline constexpr const char* kMemorizationJson = "memorization.json";

// Writes `content` to `path` atomically (temp + fsync + rename + fsync of the folder).
// Throws DataError naming the file.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

// Streams text into a gzip file that appears at `path` only on commit().
class AtomicGzipWriter {
 public:
  explicit AtomicGzipWriter(std::filesystem::path path);
  ~AtomicGzipWriter();  // without commit(): removes the temporary file
  AtomicGzipWriter(const AtomicGzipWriter&) = delete;
  AtomicGzipWriter& operator=(const AtomicGzipWriter&) = delete;
  void write(std::string_view text);
  void commit();

 private:
  void deflate_chunk(bool finish);
  struct State;
  std::filesystem::path path_, tmp_;
  State* st_;
  std::string staging_;
  bool committed_ = false;
};

// Reads a whole gzip (or plain) file into a string. Throws DataError.
std::string read_gzip_file(const std::filesystem::path& path);

// `index,score\n` (score "nan" for a NaN-flagged row). REQUIRES: r.score_known || r.nan.
std::string csv_line(const RowScore& r, int continuation_len);
std::string extended_csv_header();
// One extended line. `unseen`: index >= sequences_per_step * step.
std::string extended_csv_line(const RowScore& r, int continuation_len, double tau, bool unseen);

// Summary accumulated over rows in increasing index order.
struct ScanSummary {
  explicit ScanSummary(int continuation_len = 32) : histogram(static_cast<std::size_t>(continuation_len) + 1, 0) {}
  std::uint64_t rows_scanned = 0, rows_memorized = 0, rows_nan = 0, rows_unseen = 0,
                rows_eod_in_target = 0, rows_score_known = 0;
  std::vector<std::uint64_t> histogram;  // rows with k matches, k = 0..L (score-known rows only)
  std::vector<std::uint64_t> memorized, near_tie, memorized_near_tie, nan_rows;
  void add(const RowScore& r, double tau, bool unseen);
  // Concatenates another summary of later rows (shard merge).
  void append(const ScanSummary& later);
  // Mean score over score-known rows, from the histogram (exact integer sums); nullopt if none.
  std::optional<double> mean_score() const;
};

// The metadata of one scan that is not a per-row result.
struct ScanMeta {
  std::string model, revision;
  std::optional<std::int64_t> step;
  nlohmann::ordered_json data;  // {"prefix", "files": [{name, bytes, sha256}], ...}
  std::uint64_t row_begin = 0, row_end = 0;
  std::uint64_t sequences_per_step = 1024;
  ScanConfig scan;
  double tau = 0.0625;
  std::string compute_dtype = "float32", backend;
  bool extended_csv = false;
};

// memorization.json. Keys, in order: format, harness_version, model, revision, step, data,
// row_range, sequences_per_step, prefix_len, continuation_len, eod_policy, score_mode, tau, compute,
// rows_scanned, rows_memorized, rows_flagged_nan, rows_unseen, rows_eod_in_target, mean_score,
// histogram, memorized_indices, near_tie_rows, memorized_near_tie_rows, flagged_nan_rows, files,
// run, timing. `run` (threads, batch size, shard, resume, host...) and `timing` describe the process
// and are the only keys allowed to differ between a single run and a merge of shards.
nlohmann::ordered_json memorization_json(const ScanMeta& meta, const ScanSummary& s,
                                         nlohmann::ordered_json run, nlohmann::ordered_json timing);
// Sets the summary keys (rows_scanned .. flagged_nan_rows) of an existing document in place.
void set_summary_fields(nlohmann::ordered_json& j, const ScanSummary& s, bool exact);
// JSON text with 2-space indentation where arrays of scalars stay on one line (index lists can
// hold millions of entries). Deterministic; ends with a newline.
std::string pretty_json(const nlohmann::ordered_json& j);
// Parses the summary back (for merge). Throws DataError naming `file`.
ScanSummary summary_from_json(const nlohmann::ordered_json& j, const std::string& file);

const char* eod_policy_name(EodPolicy p);

}  // namespace pythia::harness

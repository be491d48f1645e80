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
#include <limits>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "results/model_identity.h"

namespace pythia::results {

// One scanned row (the fields of the extended CSV, spec memorization.md §3.6); the record the
// scanner (memorization/scanner.h) produces, the journal stores and these files hold.
struct RowScore {
  std::uint64_t index = 0;
  int matches = 0;            // #t in P..P+L-1 with g[t] == x[t]; exact only when score_known
  int first_mismatch = 0;     // first t with g[t] != x[t], or P+L when none
  float min_margin = std::numeric_limits<float>::infinity();
  bool nan = false;           // NaN logit at a scored step: flagged, no score
  bool memorized = false;     // all L tokens reproduced (never true when nan)
  bool score_known = false;   // matches is the exact score (exact mode, or memorized)
  bool eod_in_target = false; // x[P..P+L-1] contains eod_id
};

// The score k/L as eval_memorization.py prints it (spec §3.4): the float32 value of k/L shown as
// Python's repr of that double (shortest round-trip, ".0" appended when there is no '.').
// For L = 32: "0.0", "0.03125", ..., "1.0".
std::string format_score(int k, int L);

inline constexpr const char* kScoresCsv = "memorization_scores.csv.gz";
inline constexpr const char* kExtendedCsv = "memorization_scores_extended.csv.gz";
inline constexpr const char* kMemorizationJson = "memorization.json";

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
  int prefix_len = 32, continuation_len = 32;
  std::string eod_policy = "reference";  // "reference" | "allow" (memorization/scanner.h EodPolicy)
  bool exact_score = true;                // false: --memorized-only
  double tau = 0.0625;
  std::string compute_dtype = "float32", backend;
  bool extended_csv = false;
  std::optional<ModelIdentity> identity;  // the weights scanned (results/model_identity.h)
  bool token_stats = false;               // memorization_token_stats.bin written (files.token_stats)
  bool memorized_evals = false;           // memorized_evals.jsonl.gz written (files.memorized_evals)
};

// memorization.json. Keys, in order: format, harness_version, model, revision, step,
// model_identity (only when meta.identity is set), data,
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
// The memorization.json at `path` as written (key order kept), for `merge` and resume. Throws
// DataError naming the file when it is not valid JSON or not an object.
nlohmann::ordered_json read_memorization_document(const std::filesystem::path& path);

// ---- Reading (memorization_file_read.cpp) ----
// One memorization scan of one checkpoint, as `report` and `compare` see it: the keys
// memorization_json() writes (no other spellings). Keys absent from the file are left at their
// defaults (step: from the revision name); `raw` keeps the whole document.
struct MemorizationResult {
  std::filesystem::path path;
  std::string model;
  std::string revision;
  std::optional<std::int64_t> step;
  std::int64_t row_begin = 0, row_end = 0;  // scanned rows [row_begin, row_end)
  std::int64_t rows_scanned = 0;
  std::int64_t rows_memorized = 0;
  std::optional<double> mean_score;
  std::vector<std::int64_t> histogram;          // 33 bins: rows with k of 32 tokens matching
  std::vector<std::int64_t> memorized_indices;  // sorted
  std::int64_t near_tie_rows = 0;               // rows whose decision sits on an argmax near-tie
  std::string data_prefix;                      // the memmap prefix that was scanned ("" unknown)
  std::filesystem::path scores_path;            // memorization_scores.csv[.gz] beside it, if any
  nlohmann::json raw;
};

// Throws ResultsFileError (results/eval_results.h) naming `name` for a document that is not an
// object or holds a key of the wrong type.
MemorizationResult parse_memorization(const nlohmann::json& j, const std::string& name);
// Reads memorization.json (plain or gzip) and finds memorization_scores.csv[.gz] beside it.
MemorizationResult read_memorization(const std::filesystem::path& path);

// Reads `index,score` lines (no header, or a header line starting with "index"; trailing newline
// optional; gzip when the file name ends in .gz). Returns (index, score) in file order.
std::vector<std::pair<std::int64_t, double>> read_memorization_scores(
    const std::filesystem::path& path);



}  // namespace pythia::results

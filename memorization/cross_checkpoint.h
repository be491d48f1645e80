// Cross-checkpoint analysis of a sweep tree (`pythia-harness analyze`): for every pair of
// memorization scans over the same training data (checkpoints of one model, and of different
// models), the memorized-set matrix of Biderman et al. 2023 ("Emergent and Predictable
// Memorization"): |A|, |B|, |A∩B|, precision |A∩B|/|A| and recall |A∩B|/|B| of A predicting B,
// rows gained (B\A) and forgotten (A\B), plus the same restricted to the rows both scans covered;
// and per model the memorization rate across steps with the rows gained and forgotten since the
// previous checkpoint.
//
// Input: every memorization.json under the root (results/output_layout.h: <model>/<revision>/;
// shard-K-of-N/ folders of an unmerged run are skipped), with its memorization_scores.csv[.gz]
// (streamed, memorization/memorized_rows.h) or, when a scan wrote no CSV (--memorized-only), its
// `memorized_indices`. "Memorized" is score >= min_score (default 1.0, i.e. score == 1, spec
// memorization.md §3.6). Scans are grouped by their data: the SHA-256 of the data files recorded
// in memorization.json, else the memmap's file name.
//
// Method (bounded memory): the row axis is cut into blocks of `block_rows` rows; for each block
// every scan's memorized rows become a bitset (its source is read forward only), and every pair
// is counted with AND+popcount (TBB-parallel over pairs; integer counts, so the result does not
// depend on the thread count). Memory: about k * (block_rows/8 + block_rows/16 + 200 KiB) bytes for
// k scans in a group (bitset, per-word prefix counts, gzip reader), plus the delta-encoded
// `memorized_indices` of CSV-less scans, plus the document: k(k-1)/2 pair entries per group (about
// 2 KiB each); independent of the number of memorized rows otherwise.
// memorization/analysis_memory.h gives the estimate and the refusal.
//
// Output (analysis_json): see harness `analyze --help` and memorization/README.md. With
// dedup_counts: one more byte per block row (the row's bucket) and one stream.
// Errors: DataError naming the file (malformed JSON or CSV, decreasing indices, no scans found).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace pythia::memorization {

struct AnalysisOptions {
  double min_score = 1.0;               // a row is memorized when score >= min_score
  std::uint64_t block_rows = 1u << 20;  // rows per block (multiple of 64)
  bool progress = true;                 // progress + ETA on stderr (when it is a terminal)
  // Optional `index,count` file of `dedup-count` (memorization/dedup_count.h) over the same data:
  // adds per checkpoint "by_duplicates", rows and memorized rows per duplicate-count bucket
  // (1, 2, 3-4, 5-8, ..., 2^(b-1)+1..2^b; rows missing from the file: count_min null). It is
  // applied to every data group: give it a tree of scans over the data it was counted on.
  std::filesystem::path dedup_counts;
};

// One scan found in the tree.
struct ScanEntry {
  std::string folder;  // relative to the root, '/'-separated
  std::string model, revision;
  std::optional<std::int64_t> step;
  std::int64_t row_begin = 0, row_end = 0, rows_scanned = 0, rows_memorized = 0;
  std::string data_key;                 // what groups scans over the same data
  std::filesystem::path json_path, scores_path;  // scores_path empty: use memorized_indices
};

// The scans under `root`, sorted by (data, model, step, revision). Throws DataError when a
// memorization.json is malformed.
std::vector<ScanEntry> find_scans(const std::filesystem::path& root);

// The analysis document (format "pythia-harness memorization-analysis v1").
nlohmann::ordered_json analyze_scans(const std::vector<ScanEntry>& scans, const AnalysisOptions& opt);

// find_scans + analyze_scans; throws DataError when the tree holds no memorization.json.
nlohmann::ordered_json analyze_tree(const std::filesystem::path& root, const AnalysisOptions& opt);

}  // namespace pythia::memorization

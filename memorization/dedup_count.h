// Duplicate counts of the scanned windows (`pythia-harness dedup-count`; Carlini et al. 2022,
// Prashanth et al. 2024): for every query row i in [row_begin, row_end) the window
// w_i = tokens [0, W) of row i (W = prefix + continuation = 64 by default: what the memorization
// scan scores), and count(i) = the number of (row r, offset o) in the WHOLE memmap, every row and
// every token offset 0 <= o <= len(r) - W, whose tokens [o, o+W) equal w_i. Windows do not cross
// rows (each preshuffled row is an independent training sequence, spec memorization.md §2.1), so
// count(i) >= 1 (the row itself), and a canary copied k times has count >= k.
//
// Exact: windows are matched by a 64-bit rolling polynomial hash (mod 2^64, mixed by splitmix64)
// and every hash hit is verified token by token against the query window, so collisions never
// count. Out of core: the query windows are partitioned by hash into G groups so that one group's
// table fits `memory_bytes` (G = ceil(80 B * query rows / memory_bytes)); each group costs
// one TBB-parallel pass over the memory-mapped memmap. Each finished group's counts are written
// atomically to the work folder (OUTPUT/.dedup-work/group-K-of-G.bin, the journal): an interrupted
// run resumes at the first unfinished group when re-run with the same arguments (a work folder of
// another configuration is refused). Output, sorted by row (independent of threads and groups):
//   OUTPUT/dedup_counts.csv.gz  `index,count` lines, increasing index, no header
//   OUTPUT/dedup_counts.json    configuration, data, query rows, groups, histogram
//                               {count: rows}, timing
// Progress + ETA on stderr (tokens). Errors: DataError naming the file (bad memmap, a query row
// shorter than W, a foreign work folder); UsageError for a bad plan.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace pythia::memorization {

struct DedupPlan {
  std::string data_prefix;                  // the memmap (data/indexed_dataset.h)
  std::uint64_t row_begin = 0, row_end = 0;  // query rows; row_end 0 = every row
  int window = 64;                          // W tokens
  std::uint64_t memory_bytes = 1ull << 30;  // budget for one group's query table
  std::filesystem::path output;             // folder
  bool progress = true;
  bool keep_work = false;  // keep OUTPUT/.dedup-work after finishing (tests, debugging)
};

struct DedupSummary {
  std::uint64_t query_rows = 0, groups = 0, groups_resumed = 0;
  std::uint64_t tokens_scanned = 0;  // tokens of the memmap read per pass
  double seconds = 0;
};

inline constexpr const char* kDedupCsv = "dedup_counts.csv.gz";
inline constexpr const char* kDedupJson = "dedup_counts.json";

DedupSummary run_dedup_count(const DedupPlan& plan);

// The window hash (exposed for tests): sum_t tok[t] * B^(W-1-t) mod 2^64 then splitmix64.
std::uint64_t window_hash(const std::int32_t* tokens, int window);

}  // namespace pythia::memorization

// Per-token statistics of the continuation (`memorize --token-stats`; Lesci et al. 2024 profile
// memorization by surprisal): for every scanned row and continuation position t = P .. P+L-1,
// from the teacher-forced logits z at position t-1 (the same forward pass that decides
// "memorized"; spec memorization.md §4.1) and the true token y = x[t]:
//   logprob  = z[y] - logsumexp(z)                         natural log, computed in double
//   rank     = 1 + #{ j : z[j] > z[y] }                    over all vocab_size() ids (50304)
//              ties: tokens with a logit EQUAL to z[y] do not count, so every tied token gets the
//              best rank of its tie group ("competition" rank, min); rank 1 <=> y is a maximum.
//              No EOD mask: the statistics describe the model's distribution, not the greedy
//              policy of the score.
//   entropy  = logsumexp(z) - sum_j p_j z_j,  p = softmax(z)    nats, double accumulation
// A NaN logit gives logprob = entropy = NaN and rank = -1.
//
// File memorization_token_stats.bin (little-endian), written atomically at the end of the scan:
//   "PYTOKST1" (8 bytes) | u32 n | n bytes of JSON header | records
//   header: {"format": "pythia-harness token stats v1", "prefix_len": P, "continuation_len": L,
//            "rows": N, "row_range": [begin, end], "record": "u64 index, then L x (f32 logprob,
//            i32 rank, f32 entropy)", "rank": "...", "logprob": "...", "entropy": "..."}
//   records: N rows in increasing index order, 8 + 12 L bytes each (392 bytes for L = 32).
// Resume: while the scan runs, each finished block's stats are appended (with a CRC, fdatasync'ed)
// to memorization_token_stats.partial BEFORE the block enters the scan journal, so every block the
// journal holds has its stats; extra or torn blocks from a kill are ignored.
// Thread safety: token_stat is pure; TokenStatsJournal has one owner.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/atomic_file.h"

namespace pythia::memorization {

struct TokenStat {
  float logprob = 0.0f;
  std::int32_t rank = 0;
  float entropy = 0.0f;
};

inline constexpr const char* kTokenStatsFile = "memorization_token_stats.bin";
inline constexpr const char* kTokenStatsPartial = "memorization_token_stats.partial";

// The statistics of target id `target` under logits `z` (definitions above).
// REQUIRES: 0 <= target < z.size().
TokenStat token_stat(std::span<const float> z, int target);

// The append-only block file used while scanning (see the header comment).
class TokenStatsJournal {
 public:
  // Opens or creates `path`; drops a torn tail. `L` = continuation length (record width).
  TokenStatsJournal(std::filesystem::path path, int continuation_len);
  ~TokenStatsJournal();
  TokenStatsJournal(const TokenStatsJournal&) = delete;
  TokenStatsJournal& operator=(const TokenStatsJournal&) = delete;

  // Appends rows first .. first + stats.size()/L - 1 durably. DataError on I/O errors.
  void append(std::uint64_t first, std::span<const TokenStat> stats);
  // The stats of the block that starts at `first` with `count` rows; DataError naming the file
  // when no such block was recorded.
  std::vector<TokenStat> read(std::uint64_t first, std::uint32_t count) const;
  void remove();

 private:
  std::filesystem::path path_;
  int L_;
  int fd_ = -1;
  std::map<std::uint64_t, std::pair<std::uint32_t, std::uint64_t>> blocks_;  // first -> (count, offset)
};

// Writes memorization_token_stats.bin from rows in index order. `stats` holds rows.size() * L.
class TokenStatsFileWriter {
 public:
  TokenStatsFileWriter(std::filesystem::path path, int prefix_len, int continuation_len,
                       std::uint64_t row_begin, std::uint64_t row_end);
  void add(std::uint64_t index, std::span<const TokenStat> row);  // L entries
  void commit();                                                  // atomically

 private:
  std::filesystem::path path_;
  std::string bytes_;  // pending bytes, flushed to file_ every 1 MiB
  int L_;
  std::unique_ptr<data::AtomicFile> file_;
};

// Reads memorization_token_stats.bin: header and (index, L stats) rows. DataError naming the file.
struct TokenStatsFile {
  nlohmann::json header;
  int continuation_len = 0;
  std::vector<std::uint64_t> indices;
  std::vector<TokenStat> stats;  // indices.size() * continuation_len
};
TokenStatsFile read_token_stats_file(const std::filesystem::path& path);

// One shard's memorization_token_stats.bin and the rows its scan covered.
struct TokenStatsPart {
  std::filesystem::path path;
  std::uint64_t row_begin = 0, row_end = 0;
};

// `pythia-harness merge`: writes to `out` (atomically) the file one scan of rows
// [parts.front().row_begin, parts.back().row_end) writes, from the files of consecutive shards
// (parts in row order, each range starting where the previous one ends): the header of that range,
// then every part's records, streamed (no part is held in memory). Checks every part first: its
// header must be byte-equal to the one a scan of its rows with `prefix_len`/`continuation_len`
// writes (same format version, P, L, row range), its size must match, and its records must hold
// each row of its range once in increasing order. DataError naming the part's file otherwise.
void merge_token_stats_files(const std::vector<TokenStatsPart>& parts, int prefix_len, int continuation_len,
                             const std::filesystem::path& out);

}  // namespace pythia::memorization

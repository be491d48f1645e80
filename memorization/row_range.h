// Which training rows a memorization scan covers (spec memorization.md §2.1):
//   checkpoint stepN has seen rows [0, S*N) of the preshuffled memmap (S = sequences per step,
//   1024 for Pythia); an explicit [start, end) overrides that;
//   shard K of N (from --shard K/N or a launcher, harness/launcher_env.h) scans the contiguous
//   rows [begin + floor(R*K/N), begin + floor(R*(K+1)/N)) of the R-row range, so the shards tile
//   the range in order and `merge` concatenates them; its files go to .../shard-K-of-N/
//   (results/output_layout.h).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace pythia::memorization {

inline constexpr std::int64_t kLastPythiaStep = 143000;

struct ShardSpec {
  std::uint64_t index = 0;  // K, 0-based
  std::uint64_t count = 1;  // N >= 1
  std::string source;       // "--shard", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID" or ""
  bool sharded() const { return count > 1; }
};

// Parses "K/N" with 0 <= K < N. Throws UsageError.
ShardSpec parse_shard(const std::string& text);

// Rows of shard `s` of [begin, end): contiguous, in order, sizes differ by at most 1.
std::pair<std::uint64_t, std::uint64_t> shard_range(std::uint64_t begin, std::uint64_t end,
                                                    const ShardSpec& s);

// "shard-K-of-N".
std::string shard_dir_name(const ShardSpec& s);

// Rows [0, S*N) seen by checkpoint stepN. Throws UsageError when N < 0 or N > 143000, or S < 1.
std::pair<std::uint64_t, std::uint64_t> rows_of_step(std::int64_t step, std::int64_t sequences_per_step);

}  // namespace pythia::memorization

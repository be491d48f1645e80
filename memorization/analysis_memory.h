// How much memory `pythia-harness analyze` (memorization/cross_checkpoint.h) needs, and the
// refusal when the machine does not have it.
//
// Three parts, for scans in groups of sizes k_1 .. k_g (scans over the same data):
//   blocks    the working set of one group (groups run one after another, so the largest counts):
//             per scan a bitset of block_rows bits, per-word prefix counts (block_rows/16 bytes)
//             and a CSV reader (gzip state + 64 KiB buffer: 200 KiB budgeted); k x k pair
//             counters (24 bytes); with dedup counts one byte per block row, a reader and 65
//             bucket counters per scan.
//   document  the analysis JSON held in memory, all groups: k(k-1)/2 "pairs" entries per group
//             (an nlohmann ordered_json object of 11 keys with a nested 5-key object) and the
//             per-checkpoint and trajectory entries. This is the part that grows with the square
//             of the number of scans.
//   output    the pretty-printed JSON text (~470 bytes a pair, plus string growth) and, with
//             --html, the page: a parsed copy of the document, its text and one heatmap cell with
//             its tooltip per ordered pair.
// Measured: document + text 2.5 KiB a pair (budgeted 3.8 KiB), 4.6 KiB with --html (budgeted
// 6.8 KiB). 1,232 scans in one group (8 models x 154 checkpoints) are 758,296 pairs: ~2.9 GB
// budgeted (~5.2 GB with --html), more than the bitsets at the default --block-rows.
// The per-entry sizes are measured on this build (tests/memorization/analysis_memory_test.cpp
// runs `analyze` on a tree of 300 scans and checks the peak RSS stays within the estimate).
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "memorization/cross_checkpoint.h"
#include "model/memory_check.h"

namespace pythia::memorization {

struct AnalysisMemory {
  std::uint64_t blocks = 0, document = 0, output = 0;
  std::uint64_t pairs = 0;  // pair entries in the document, all groups
  std::uint64_t total() const { return blocks + document + output; }
};

// Sizes of the groups analyze_scans forms from `scans` (sorted as find_scans returns them).
std::vector<std::size_t> group_sizes(const std::vector<ScanEntry>& scans);

// The estimate above; `html`: the page is rendered too (analyze --html).
AnalysisMemory estimate_analysis_memory(const std::vector<std::size_t>& group_sizes, const AnalysisOptions& opt,
                                        bool html);

// Throws DataError naming `root` when estimate.total() > limit.available, with the three parts and
// what lowers them (--block-rows lowers blocks; only fewer scans per group lower the pair matrix).
void check_analysis_memory(const std::filesystem::path& root, const AnalysisMemory& estimate,
                           const model::MemoryLimit& limit);

// estimate_analysis_memory + model::available_memory + check_analysis_memory, unless
// PYTHIA_SKIP_MEMORY_CHECK=1 or nothing could be read.
void check_memory_for_analysis(const std::filesystem::path& root, const AnalysisMemory& estimate);

}  // namespace pythia::memorization

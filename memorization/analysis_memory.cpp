// See analysis_memory.h.
#include "memorization/analysis_memory.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "data/error.h"

namespace pythia::memorization {
namespace {

// Measured bytes (see the header): resident memory per entry of the document and of its outputs.
// Measured on 2026-12-03 (analyze of 150 and 300 scans, peak RSS difference per added pair):
// 2,525 bytes a pair for document + text, 4,643 with --html; budgeted with ~1.5x margin.
constexpr std::uint64_t kPairDocument = 2048;      // one "pairs" entry as ordered_json
constexpr std::uint64_t kPairText = 1800;          // its pretty text (~470 bytes) with string growth
constexpr std::uint64_t kPairHtml = 3072;          // parsed copy + compact text + two heatmap cells
constexpr std::uint64_t kCheckpointDocument = 4096;  // checkpoint + trajectory entries (+ text)
constexpr std::uint64_t kCheckpointDedup = 65 * 512;  // by_duplicates: up to 65 bucket entries
constexpr std::uint64_t kReader = 200 * 1024;
constexpr std::uint64_t kPairCounts = 3 * sizeof(std::uint64_t);

std::string gb(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GB", static_cast<double>(bytes) / 1e9);
  return buf;
}

}  // namespace

std::vector<std::size_t> group_sizes(const std::vector<ScanEntry>& scans) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < scans.size();) {
    std::size_t j = i;
    while (j < scans.size() && scans[j].data_key == scans[i].data_key) ++j;
    out.push_back(j - i);
    i = j;
  }
  return out;
}

AnalysisMemory estimate_analysis_memory(const std::vector<std::size_t>& sizes, const AnalysisOptions& opt, bool html) {
  const bool dedup = !opt.dedup_counts.empty();
  const std::uint64_t words = opt.block_rows / 64;
  AnalysisMemory m;
  for (const std::size_t k : sizes) {
    const std::uint64_t per_scan = words * 8 + (words + 1) * 4 + kReader + (dedup ? 65 * 16 : 0);
    const std::uint64_t blocks = k * per_scan + k * k * kPairCounts + (dedup ? opt.block_rows + kReader : 0);
    m.blocks = std::max(m.blocks, blocks);
    const std::uint64_t pairs = static_cast<std::uint64_t>(k) * (k - (k > 0 ? 1 : 0)) / 2;
    m.pairs += pairs;
    m.document += pairs * kPairDocument + k * (kCheckpointDocument + (dedup ? kCheckpointDedup : 0));
    m.output += pairs * (kPairText + (html ? kPairHtml : 0)) + k * (dedup ? kCheckpointDedup : 0);
  }
  return m;
}

void check_analysis_memory(const std::filesystem::path& root, const AnalysisMemory& e, const model::MemoryLimit& limit) {
  if (e.total() <= limit.available) return;
  throw DataError(root.string(),
                  "analyzing this tree needs about " + gb(e.total()) + " of memory (" + gb(e.blocks) +
                      " of row bitsets for the largest group: --block-rows lowers it; " + gb(e.document + e.output) +
                      " for the " + std::to_string(e.pairs) +
                      " checkpoint pairs of the analysis JSON and its text: it grows with the square of the "
                      "scans in a group, so analyze fewer scans, e.g. a sub-folder of the tree) but only " +
                      gb(limit.available) + " is available (" + limit.source +
                      "); set PYTHIA_SKIP_MEMORY_CHECK=1 to try anyway");
}

void check_memory_for_analysis(const std::filesystem::path& root, const AnalysisMemory& estimate) {
  if (const char* skip = std::getenv("PYTHIA_SKIP_MEMORY_CHECK"); skip != nullptr && std::string_view(skip) == "1") {
    return;
  }
  if (const auto limit = model::available_memory()) check_analysis_memory(root, estimate, *limit);
}

}  // namespace pythia::memorization

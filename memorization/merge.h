// Joining the shards of a memorize run (`pythia-harness merge DIR/<model>/<revision>`).
//
// Reads DIR/.../shard-K-of-N/ for K = 0..N-1 (all present and finished: memorization.json, no
// journal), checks that they are one configuration (every memorization.json key equal except
// row_range, the summary keys, run and timing) and that their row ranges tile, and writes into
// DIR/<model>/<revision>/ the files one process scanning the whole range writes: the CSVs
// byte-identical, memorization.json identical except "run" (here: shards merged, host) and
// "timing" (here: merge time and the shards' summed scan seconds).
// Errors: DataError naming the shard folder or file.
#pragma once

#include <cstdint>
#include <filesystem>

namespace pythia::memorization {

struct MergeSummary {
  std::uint64_t shards = 0, rows = 0, memorized = 0;
};

MergeSummary merge_memorize_shards(const std::filesystem::path& revision_dir);

}  // namespace pythia::memorization

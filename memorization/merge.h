// Joining the shards of a memorize run (`pythia-harness merge DIR/<model>/<revision>`).
//
// Reads DIR/.../shard-K-of-N/ for K = 0..N-1 (all present and finished: memorization.json, no
// journal), checks that they are one configuration (every memorization.json key equal except
// row_range, the summary keys, run and timing) and that their row ranges tile (an overlap or a gap
// is named as such), and writes into DIR/<model>/<revision>/ the files one process scanning the
// whole range writes: the CSVs, memorization_token_stats.bin (--token-stats: each shard's header
// checked against its row range, P and L, and its records against its rows) and
// memorized_evals.jsonl.gz (--memorized-evals: each shard's rows checked against the memorized
// rows of its memorization.json) byte-identical; memorization.json identical except "run" (here:
// shards merged) and "timing" (here: the shards' summed scan seconds). Token statistics are
// streamed, not held in memory. memorization.json is written last, so a merge that fails leaves
// no merged memorization.json.
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

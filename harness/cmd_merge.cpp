// pythia-harness merge DIR/<model>/<revision>: join the shard-K-of-N/ outputs of a sharded
// `memorize` run into the files one process would have written (memorization/merge.h).
#include <boost/program_options.hpp>
#include <cstdio>

#include "data/error.h"
#include "harness/cli_util.h"
#include "harness/commands.h"
#include "memorization/merge.h"

namespace pythia::harness {
namespace po = boost::program_options;

int run_merge(const Args& args) {
  std::string dir;
  po::options_description desc(
      "Usage: pythia-harness merge DIR/<model>/<revision>\n\n"
      "Joins the shard-K-of-N/ folders written by `memorize --shard K/N` (or under mpirun/srun)\n"
      "into DIR/<model>/<revision>/memorization.json and memorization_scores.csv.gz, and, when\n"
      "the shards have them, the extended CSV, memorization_token_stats.bin (--token-stats) and\n"
      "memorized_evals.jsonl.gz (--memorized-evals). These files are byte-identical to a\n"
      "single-process scan of the same rows; memorization.json differs only in \"run\" and\n"
      "\"timing\". Every shard must be finished and of the same configuration, and the shards'\n"
      "row ranges must tile the range (an overlap or a gap is refused); each token statistics\n"
      "file must carry its shard's header and rows, each memorized-evals file its shard's\n"
      "memorized rows. Errors name the shard's file (exit 3).\n\nOptions");
  desc.add_options()("help,h", "this help")("dir", po::value(&dir), "the revision folder holding the shards");
  po::positional_options_description pos;
  pos.add("dir", 1);
  if (!parse_or_help(args, desc, &pos)) return 0;
  if (dir.empty()) throw UsageError("give the revision folder: pythia-harness merge DIR/<model>/<revision>");
  const memorization::MergeSummary s = memorization::merge_memorize_shards(dir);
  std::printf("merged %llu shards: %llu rows, %llu memorized -> %s\n", static_cast<unsigned long long>(s.shards),
              static_cast<unsigned long long>(s.rows), static_cast<unsigned long long>(s.memorized), dir.c_str());
  return 0;
}

}  // namespace pythia::harness

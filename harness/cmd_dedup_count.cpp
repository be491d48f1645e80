// pythia-harness dedup-count --data PREFIX --output DIR: how often each scanned window occurs in
// the whole training memmap (memorization/dedup_count.h).
#include <boost/program_options.hpp>
#include <algorithm>
#include <cstdio>

#include "data/error.h"
#include "harness/cli_util.h"
#include "harness/commands.h"
#include "harness/threading.h"
#include "memorization/dedup_count.h"
#include "memorization/row_range.h"

namespace pythia::harness {
namespace po = boost::program_options;

int run_dedup_count(const Args& args) {
  memorization::DedupPlan plan;
  std::string output;
  std::int64_t step = -1, start = -1, end = -1, sequences_per_step = 1024, memory_mb = 1024;
  int threads = 0;
  bool no_progress = false;
  po::options_description desc(
      "Usage: pythia-harness dedup-count --data PREFIX --output DIR [--step N | --start A --end B]\n\n"
      "Duplicate counts for memorization-vs-duplication analyses: for every query row i, the window\n"
      "w_i = its first --window tokens (prefix + continuation: what `memorize` scores), and the number\n"
      "of times w_i occurs in the WHOLE memmap, at every token offset of every row (windows do not\n"
      "cross rows; the row itself counts, so counts are >= 1). Exact: hash hits are verified token by\n"
      "token. Out of core: the query windows are split by hash into groups whose table fits\n"
      "--memory-mb (about 80 bytes a query row); each group is one parallel pass over the memmap, and\n"
      "is journaled in DIR/.dedup-work/ so an interrupted run resumes with the same arguments.\n"
      "Writes DIR/dedup_counts.csv.gz (`index,count`, increasing index) and DIR/dedup_counts.json\n"
      "(configuration, histogram {count: rows}). Progress and ETA on stderr.\n\nOptions");
  desc.add_options()("help,h", "this help")
      ("data", po::value(&plan.data_prefix), "the training memmap PREFIX (.idx/.bin, or shards); required")
      ("output,o", po::value(&output), "output folder; required")
      ("window", po::value(&plan.window)->default_value(64), "window length W in tokens (prefix + continuation)")
      ("step", po::value(&step), "query rows of checkpoint stepN's scan: [0, S*N) (default: every row)")
      ("start", po::value(&start), "first query row of an explicit range (with --end; overrides --step)")
      ("end", po::value(&end), "one past the last query row (with --start)")
      ("sequences-per-step", po::value(&sequences_per_step)->default_value(1024),
       "rows per optimizer step S (Pythia: 1024; the mini fixtures: 16)")
      ("memory-mb", po::value(&memory_mb)->default_value(1024),
       "memory budget of one group's query table in MiB (more memory: fewer passes)")
      ("threads", po::value(&threads)->default_value(0), "worker threads (0: all cores); counts do not depend on it")
      ("no-progress", po::bool_switch(&no_progress), "no progress line on stderr");
  if (!parse_or_help(args, desc)) return 0;
  if (plan.data_prefix.empty()) throw UsageError("--data PREFIX is required");
  if (output.empty()) throw UsageError("--output DIR is required");
  if (memory_mb < 1) throw UsageError("--memory-mb must be >= 1");
  if (plan.window < 1 || plan.window > 1 << 20) throw UsageError("--window must be in [1, 1048576]");
  if ((start >= 0) != (end >= 0)) throw UsageError("--start and --end go together");
  if (start >= 0) {
    if (end <= start) throw UsageError("--end must be greater than --start");
    plan.row_begin = static_cast<std::uint64_t>(start);
    plan.row_end = static_cast<std::uint64_t>(end);
  } else if (step >= 0) {
    if (sequences_per_step < 1) throw UsageError("--sequences-per-step must be >= 1");
    if (step == 0) throw UsageError("--step 0 has seen no rows: nothing to count");
    const auto [b, e] = memorization::rows_of_step(step, sequences_per_step);
    plan.row_begin = b;
    plan.row_end = e;
  }
  plan.output = output;
  plan.memory_bytes = static_cast<std::uint64_t>(memory_mb) << 20;
  plan.progress = !no_progress;
  ThreadSetup threading(threads);
  const memorization::DedupSummary s = memorization::run_dedup_count(plan);
  std::printf("dedup-count: %llu query rows, %llu tokens scanned x %llu group pass(es) (%llu resumed) in %.1f s "
              "(%.1f M tokens/s) -> %s\n",
              static_cast<unsigned long long>(s.query_rows), static_cast<unsigned long long>(s.tokens_scanned),
              static_cast<unsigned long long>(s.groups), static_cast<unsigned long long>(s.groups_resumed), s.seconds,
              s.tokens_scanned * static_cast<double>(s.groups - s.groups_resumed) / std::max(s.seconds, 1e-9) / 1e6,
              output.c_str());
  return 0;
}

}  // namespace pythia::harness

// pythia-harness memorize: the memorization scan of one checkpoint (memorization/scan_job.h).
#include <boost/program_options.hpp>
#include <cstdio>
#include <memory>

#include "data/error.h"
#include "harness/cli_util.h"
#include "harness/commands.h"
#include "harness/memorize_flags.h"
#include "memorization/scan_job.h"
#include "harness/model_options.h"
#include "harness/threading.h"

namespace pythia::harness {
namespace po = boost::program_options;

int run_memorize(const Args& args) {
  ModelOptions mo;
  MemorizeFlags o;
  po::options_description desc(
      "Usage: pythia-harness memorize --model M [--revision stepN] --data PREFIX [--output DIR]\n\n"
      "Scores every training row a checkpoint has seen the way EleutherAI/pythia\n"
      "predictable-memorization/eval_memorization.py does: prompt = row[0:32], greedy\n"
      "continuation of 32 tokens with EOD (id 0) never predicted, score = fraction of the 32\n"
      "positions equal to row[32:64]; memorized iff score == 1. One teacher-forced pass decides\n"
      "'memorized'; decoding runs only from the first mismatch. fp32 on CPU: rows whose decision\n"
      "margin is below --tau are reported as near ties (the reference ran fp16 on GPUs).\n"
      "Writes DIR/<model>/<revision>/memorization.json and memorization_scores.csv.gz; an\n"
      "interrupted run resumes when re-run with the same arguments.\n\nOptions");
  desc.add_options()("help,h", "this help");
  add_model_options(desc, mo);  // --model, --revision (stepN also selects the rows), --threads
  add_memorize_options(desc, o);
  if (!parse_or_help(args, desc)) return 0;
  if (mo.threads < 0) throw UsageError("--threads must be >= 0");
  const memorization::ScanPlan plan = to_scan_plan(o);  // every flag checked before the model loads
  const ThreadSetup threads(mo.threads);
  const LoadedModel lm = load_model_from_options(mo, plan.workload(threads.threads()));
  const memorization::MemorizeSummary s = memorization::run_memorize_job(*lm.model, lm.name, lm.revision, plan, &lm.identity);
  if (s.already_complete) {
    std::printf("already complete: %s (rows [%llu, %llu))\n", s.output_dir.c_str(),
                static_cast<unsigned long long>(s.row_begin), static_cast<unsigned long long>(s.row_end));
  } else {
    std::printf("scanned rows [%llu, %llu) (%llu resumed from the journal) in %.1f s\n",
                static_cast<unsigned long long>(s.row_begin), static_cast<unsigned long long>(s.row_end),
                static_cast<unsigned long long>(s.rows_resumed), s.seconds);
  }
  std::printf("%llu rows, %llu memorized, %llu near ties, %llu NaN-flagged", static_cast<unsigned long long>(s.rows_scanned),
              static_cast<unsigned long long>(s.rows_memorized), static_cast<unsigned long long>(s.rows_near_tie),
              static_cast<unsigned long long>(s.rows_nan));
  if (s.mean_score) std::printf(", mean score %.6f", *s.mean_score);
  std::printf("\n-> %s\n", s.output_dir.c_str());
  return 0;
}

}  // namespace pythia::harness

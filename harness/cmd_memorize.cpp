// pythia-harness memorize: the memorization scan of one checkpoint (memorization/scan_job.h).
#include <boost/program_options.hpp>
#include <cstdio>
#include <memory>

#include "data/error.h"
#include "harness/cli_util.h"
#include "harness/compute_option.h"
#include "harness/commands.h"
#include "harness/memorize_flags.h"
#include "memorization/bf16_screen.h"
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
  std::string compute = "fp32";
  add_compute_option(desc, compute,
                     "For memorize, bf16 screens every row in bf16 and re-scores in fp32 every row "
                     "whose bf16 decision margin is below tau + B (B = 4 x 2 x the largest "
                     "|logit_bf16 - logit_fp32| measured on the first 64 rows), so the scores equal "
                     "the fp32 scan; memorization.json records B and the re-scored row count "
                     "(run.bf16_screen). Needs the fp32 weights AND the bf16 copies in memory");
  if (!parse_or_help(args, desc)) return 0;
  const model::Compute compute_kind = parse_compute_flag(compute);
  if (mo.threads < 0) throw UsageError("--threads must be >= 0");
  const memorization::ScanPlan plan = to_scan_plan(o);  // every flag checked before the model loads
  const ThreadSetup threads(mo.threads);
  model::Workload work = plan.workload(threads.threads());
  if (compute_kind == model::Compute::kBf16) work = memorization::screened_workload(work);
  const LoadedModel lm = load_model_from_options(mo, work);
  std::unique_ptr<model::GptNeox> fast;
  if (compute_kind == model::Compute::kBf16) fast = with_compute_checked(lm, compute_kind);
  const memorization::MemorizeSummary s =
      fast ? memorization::run_memorize_job(*fast, lm.name, lm.revision, plan, &lm.identity, lm.model.get())
           : memorization::run_memorize_job(*lm.model, lm.name, lm.revision, plan, &lm.identity);
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
  if (fast && !s.already_complete)
    std::printf("\nbf16 screen: max |logit deviation| %.3g, B %.3g, %llu of %llu rows re-scored in fp32",
                s.screen_max_deviation, s.screen_bound, static_cast<unsigned long long>(s.rows_rechecked),
                static_cast<unsigned long long>(s.rows_computed));
  std::printf("\n-> %s\n", s.output_dir.c_str());
  return 0;
}

}  // namespace pythia::harness

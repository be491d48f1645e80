// The memorization scan of one checkpoint as a reusable job: `memorize` runs it once, `sweep`
// runs it per revision on a model it has loaded (and also uses for eval).
//
// run_memorize_job(lm, model, revision, plan), in named steps (scan_job.cpp):
//   1. resolve_target  rows [start, end) when given, else [0, S*N) for checkpoint stepN (N from
//                      plan.step or the revision name, data/checkpoint_step.h); this process's
//                      slice when plan.shard is set (memorization/row_range.h); the output folder
//                      <output>/<model>/<revision>[/shard-K-of-N] (results/output_layout.h).
//   2. describe_scan   data files and checksums, the scan settings, the resume configuration.
//   3. finished_result a folder that already holds this configuration's result is left alone
//                      (reported as already complete); one holding another is refused.
//   4. scan_rows       a TBB pipeline: read a block of batch_size rows -> score it (teacher-forced
//                      forwards in parallel, decode steps batched) -> journal it (fsync'ed), with
//                      at most max(2, threads) blocks in flight. Only rows missing from the
//                      journal are scanned, so a re-run after any interruption resumes.
//   5. write_outputs   from the journal in row order: memorization_scores.csv.gz (exact mode),
//                      memorization_scores_extended.csv.gz (extended_csv), memorization.json
//                      (results/memorization_file.h), each atomically; then the journal is removed.
// Output does not depend on threads or batch size.
// Errors: UsageError for a plan that does not fit the model (P + L - 1 > positions) or a folder of
// another configuration; DataError naming the data file for bad data (row shorter than the
// window, range past the end, not the preshuffled layout, token outside the vocabulary).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "memorization/scan_plan.h"
#include "model/causal_lm.h"
#include "results/model_identity.h"

namespace pythia::memorization {

struct MemorizeSummary {
  std::filesystem::path output_dir;
  std::uint64_t row_begin = 0, row_end = 0;  // this process's rows
  std::uint64_t rows_scanned = 0, rows_memorized = 0, rows_nan = 0, rows_near_tie = 0;
  std::optional<double> mean_score;
  std::uint64_t rows_resumed = 0;            // rows taken from an interrupted run's journal
  std::uint64_t rows_computed = 0;           // rows scored by this call
  double seconds = 0.0;
  bool already_complete = false;             // the folder already held this exact result
  // bf16 screen only (exact != nullptr): rows re-scored by the exact model in this call, B, delta.
  std::uint64_t rows_rechecked = 0;
  double screen_bound = 0.0, screen_max_deviation = 0.0;
};

// REQUIRES: lm outlives the call; plan.validate() passes. `revision` "" is written as "main".
// `identity` (results/model_identity.h): recorded in memorization.json, and its weights_sha256 is
// part of the resume configuration (a folder scanned with other weights is refused); null = unknown.
// `exact` (optional): when given, `lm` is a fast approximate model (bf16 compute) that screens
// every row and `exact` re-scores the rows whose decision margin is too small to trust
// (memorization/bf16_screen.h), so the scores equal an `exact` scan; memorization.json records
// the calibration and the re-scored row count under run.bf16_screen. UsageError with
// plan.token_stats (statistics need fp32 logits at every position).
MemorizeSummary run_memorize_job(const model::CausalLm& lm, const std::string& model_name,
                                 const std::string& revision, const ScanPlan& plan,
                                 const results::ModelIdentity* identity = nullptr,
                                 const model::CausalLm* exact = nullptr);

}  // namespace pythia::memorization

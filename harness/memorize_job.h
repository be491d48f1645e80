// The memorization scan of one checkpoint as a reusable job: `memorize` runs it once, `sweep`
// runs it per revision on a model it has loaded (and also uses for eval).
//
// run_memorize_job(lm, model, revision, options):
//   rows      [start, end) when given, else [0, S*N) for checkpoint stepN (S = sequences per step,
//             1024 for Pythia; N from --step or from a revision named stepN); N <= 143000.
//   shard     --shard K/N, else the MPI/Slurm launcher environment (harness/launcher_env.h): this
//             process scans its contiguous slice and writes to .../shard-K-of-N/.
//   output    DIR/<model>/<revision>[/shard-K-of-N]/memorization.json, memorization_scores.csv.gz
//             (exact mode), memorization_scores_extended.csv.gz (--extended-csv): see
//             harness/memorization_output.h.
//   resume    finished row blocks are journalled (memorization.journal, fsync'ed); a re-run with
//             the same arguments after any interruption scans only the missing rows and writes
//             the same files. A finished folder is left alone (reported as already complete);
//             one holding another configuration is refused.
//   parallel  a TBB pipeline: read a block of --batch-size rows -> score it (teacher-forced
//             forwards in parallel, decode steps batched across the block) -> journal it, with at
//             most max(2, threads) blocks in flight. Output does not depend on threads or batch size.
// Errors: UsageError for bad options, DataError naming the data file for bad data (row shorter
// than the window, range past the end, not the preshuffled layout, token outside the vocabulary).
#pragma once

#include <boost/program_options/options_description.hpp>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "model/causal_lm.h"

namespace pythia::harness {

struct MemorizeOptions {
  std::string data;                     // --data: memmap prefix (PREFIX.idx + PREFIX.bin)
  std::string output = "results";       // --output: results root DIR
  std::int64_t start = -1, end = -1;    // --start/--end: explicit row range (-1: unset)
  std::int64_t step = -1;               // --step: checkpoint step (-1: from the revision name)
  std::int64_t sequences_per_step = 1024;  // rows per optimizer step (Pythia: 1024)
  int prefix_len = 32;
  int continuation_len = 32;
  std::string eod_policy = "reference";    // reference | allow
  bool memorized_only = false;             // teacher-forced pass only (no fractional score)
  double tau = 0.0625;                     // near-tie threshold on min_margin (spec §5)
  int batch_size = 64;                     // rows per block (journal unit, decode batch)
  std::string shard;                       // "K/N"; empty: launcher environment or none
  bool extended_csv = false;
  std::string checksums = "auto";          // auto (idx; bin when <= 1 GiB) | all | idx | none
  std::string verify_sha256;               // file of "<filename> <sha256>" lines to check against
  bool any_layout = false;                 // skip the preshuffled-layout check (2049-token rows)
  bool progress = true;                    // progress line when stderr is a terminal
  std::string backend = "cpu, OpenBLAS sgemm";  // recorded in memorization.json "compute"
};

// Registers the memorize flags (all but --model/--revision/--threads) bound to `o`.
void add_memorize_options(boost::program_options::options_description& desc, MemorizeOptions& o);

struct MemorizeSummary {
  std::filesystem::path output_dir;
  std::uint64_t row_begin = 0, row_end = 0;  // this process's rows
  std::uint64_t rows_scanned = 0, rows_memorized = 0, rows_nan = 0, rows_near_tie = 0;
  std::optional<double> mean_score;
  std::uint64_t rows_resumed = 0;            // rows taken from an interrupted run's journal
  std::uint64_t rows_computed = 0;           // rows scored by this call
  double seconds = 0.0;
  bool already_complete = false;             // the folder already held this exact result
};

// REQUIRES: lm outlives the call. `revision` "" is written as "main".
MemorizeSummary run_memorize_job(const model::CausalLm& lm, const std::string& model_name,
                                 const std::string& revision, const MemorizeOptions& options);

// Checkpoint step of a revision name: "step123" -> 123; anything else -> nullopt.
std::optional<std::int64_t> step_of_revision_name(const std::string& revision);

// Rows [0, S*N) seen by checkpoint stepN (spec §2.1). Throws UsageError when N < 0 or N > 143000.
std::pair<std::uint64_t, std::uint64_t> rows_of_step(std::int64_t step, std::int64_t sequences_per_step);

}  // namespace pythia::harness

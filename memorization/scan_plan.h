// ScanPlan: everything a memorization scan of one checkpoint is asked to do, typed and validated
// before any model loads (harness/memorize_flags.cpp binds the command-line flags into it; `sweep`
// builds one for all its checkpoints). The job (memorization/scan_job.h) resolves it against a
// model, a revision and the data.
//
//   ScanPlan p;  p.data = "/data/pile/document";  p.validate();   // UsageError when it cannot run
//   p.to_json()  // the run identity: every field that can change a result, in a fixed order
//
// Enum names on the command line and in files: EodPolicy reference|allow, ScoreMode
// exact|memorized-only, Checksums auto|all|idx|none. parse_* throw UsageError naming the flag.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "memorization/row_range.h"
#include "model/memory_check.h"
#include "memorization/scanner.h"

namespace pythia::memorization {

enum class ScoreMode {
  kExact,          // fractional score of every row (memorization_scores.csv.gz)
  kMemorizedOnly,  // decide score == 1 with the teacher-forced pass only; no CSV of scores
};
enum class Checksums {
  kAuto,  // .idx always, .bin when <= 1 GiB
  kAll,
  kIdx,
  kNone,
};

const char* to_string(EodPolicy p);  // "reference" | "allow"
const char* to_string(ScoreMode m);  // "exact" | "memorized-only"
const char* to_string(Checksums c);  // "auto" | "all" | "idx" | "none"
EodPolicy parse_eod_policy(const std::string& text);  // --eod-policy
ScoreMode parse_score_mode(const std::string& text);
Checksums parse_checksums(const std::string& text);   // --checksums

struct ScanPlan {
  std::filesystem::path data;                    // memmap PREFIX (PREFIX.idx + PREFIX.bin)
  std::filesystem::path output = "results";      // results root (results/output_layout.h)
  std::optional<std::uint64_t> start, end;       // explicit row range (both or neither)
  std::optional<std::int64_t> step;              // checkpoint step; nullopt: from the revision name
  std::int64_t sequences_per_step = 1024;        // rows per optimizer step (Pythia: 1024)
  int prefix_len = 32;                           // P
  int continuation_len = 32;                     // L
  EodPolicy eod_policy = EodPolicy::kReference;
  ScoreMode score_mode = ScoreMode::kExact;
  double tau = 0.0625;                           // near-tie threshold on min_margin (spec §5)
  int batch_size = 64;                           // rows per block: resume unit, decode batch
  std::optional<ShardSpec> shard;                // this process's slice (nullopt: the whole range)
  bool extended_csv = false;                     // also memorization_scores_extended.csv.gz
  bool token_stats = false;                      // also memorization_token_stats.bin (token_stats.h)
  bool memorized_evals = false;                  // also memorized_evals.jsonl.gz (results/memorized_evals.h)
  Checksums checksums = Checksums::kAuto;
  std::filesystem::path verify_sha256;           // "<filename> <sha256>" lines to check against
  bool any_layout = false;                       // skip the preshuffled-layout check
  bool progress = true;                          // progress line when stderr is a terminal

  // Throws UsageError for values no model or data could make valid (missing --data, half a range,
  // lengths < 1 or L > 255, tau < 0, batch < 1, step outside 0..143000, S < 1).
  void validate() const;

  // The run identity: data, range/step, S, P, L, eod_policy, score_mode, tau, shard, extended_csv,
  // checksums, verify_sha256, any_layout (and token_stats, memorized_evals, only when set). Not output, batch_size or progress (they change no
  // result). Deterministic key order.
  nlohmann::ordered_json to_json() const;

  // The KV caches the scan holds at once, for the memory check before loading: the job's
  // pipeline scores max(2, threads) blocks concurrently, each allocating batch_size caches of
  // P + L positions (memorization/scan_job.cpp).
  model::Workload workload(int threads) const;
};

}  // namespace pythia::memorization

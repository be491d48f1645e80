// Exact memorization scores at bf16 speed (`memorize --compute bf16`): every row is scored with
// the bf16-compute model (the "screen"); a row is re-scored with the exact fp32 model unless its
// screen min_margin is at least  threshold = tau + B,  B = kSafetyFactor x 2 x delta,  where
// delta = max |logit_bf16 - logit_fp32| measured on calibration rows of this checkpoint.
//
// Why a margin > 2 delta gives the same greedy decision: let z (fp32) and z' (bf16) be the
// logits of one step for the same input, |z'_v - z_v| <= delta for every v. If a' wins in bf16
// with z'_a' - z'_j > 2 delta for every other eligible j, then z_a' >= z'_a' - delta >
// z'_j + delta >= z_j: a' is also the strict (tie-free) fp32 winner. Every decision that enters
// a row's score (teacher-forced positions P-1 .. m-1, where m is the first mismatch, and the
// greedy decode steps after it) is one of the steps min_margin ranges over (scanner.h), so if
// all of them have a bf16 margin > 2 delta, fp32 makes the same decisions at each step: the same
// first mismatch, the same decoded tokens (by induction: the inputs of step s+1 are the same
// tokens), hence the same matches, score and memorized flag. Near ties are also the same: the
// top1-top2 gap moves by at most 2 delta, so a kept row (margin' >= tau + B >= tau + 2 delta) has
// an fp32 margin >= tau (not a near tie), while every row with margin' < tau + B is re-scored.
// What is NOT proven: delta is measured (on kCalibrationRows rows, teacher-forced and decode
// logits, every vocabulary entry), not bounded analytically; the safety factor covers rows whose
// deviation exceeds the calibration's. A row whose screen saw a NaN is always re-scored (an fp32
// NaN where bf16 is finite is not detected: neither happens on the checkpoints we have).
// The kept rows' min_margin is the bf16 value (within 2 delta of fp32's): the scores CSV and the
// near-tie/memorized lists equal the fp32 scan; the extended CSV's min_margin column may differ in
// the last digits for kept rows.
//
// Cost: the exact model's weights stay loaded next to the bf16 copies (fp16 checkpoint: 2 + 2
// bytes per parameter), and every re-scored row costs one fp32 scan of that row on top.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>

#include "memorization/scanner.h"
#include "model/causal_lm.h"
#include "model/memory_check.h"

namespace pythia::memorization {

inline constexpr double kSafetyFactor = 4.0;
inline constexpr int kCalibrationRows = 64;

// Max |logit_fast - logit_exact| over every vocabulary entry of positions P-1 .. P+L-2 of the
// rows in `windows` (rows of W = P+L tokens), both as one teacher-forced forward() and as
// forward(x[0..P-1]) then decode() of x[P .. P+L-2] (teacher-forced decode, all rows batched).
// +infinity if any logit of either model is not finite. Runs rows in parallel (TBB).
double max_logit_deviation(const model::CausalLm& fast, const model::CausalLm& exact,
                           std::span<const model::Token> windows, int prefix_len, int continuation_len);

// The KV caches and copies a screened scan holds, for the memory check before loading
// (model/memory_check.h): the scan's own `scan` workload, at least the 2 x kCalibrationRows caches
// of max_logit_deviation (fast and exact decode caches of every calibration row, held at once
// before the scan starts), and the bf16 copies of the matrices.
model::Workload screened_workload(model::Workload scan);

struct ScreenStats {
  double max_deviation = 0.0;  // delta
  double bound = 0.0;          // B = kSafetyFactor * 2 * delta
  double threshold = 0.0;      // tau + B: rows with a smaller screen margin are re-scored
  std::uint64_t calibration_rows = 0;
  std::uint64_t rows_screened = 0, rows_rechecked = 0;
};

class ScreenedScanner {
 public:
  // REQUIRES: both models outlive the scanner and have the same vocabulary and positions.
  // `max_deviation`: delta from max_logit_deviation.
  ScreenedScanner(const model::CausalLm& fast, const model::CausalLm& exact, ScanConfig config,
                  double tau, double max_deviation, std::uint64_t calibration_rows);

  const ScanConfig& config() const { return fast_.config(); }
  int vocab_size() const { return fast_.vocab_size(); }

  // As MemorizationScanner::score: out[b] is the fp32 scan's RowScore of row b (min_margin aside
  // for kept rows, see header comment). With `stats` (token statistics need fp32 logits at every
  // position) every row is scored by the exact model, none screened. Thread-safe.
  void score(std::span<const model::Token> windows, std::span<const std::uint64_t> indices,
             std::span<RowScore> out, bool parallel = true, std::span<TokenStat> stats = {}) const;

  // delta, B, threshold, and the rows screened / re-scored so far by this object.
  ScreenStats stats() const;

 private:
  MemorizationScanner fast_, exact_;
  double max_deviation_, bound_, threshold_;
  std::uint64_t calibration_rows_;
  mutable std::atomic<std::uint64_t> screened_{0}, rechecked_{0};
};

}  // namespace pythia::memorization

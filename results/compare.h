// Regression check between two results (files or trees): every metric of every task in every
// folder, and every memorization figure, with a per-metric tolerance. Used by
// `pythia-harness compare` (harness/cmd_compare.cpp), which prints format_compare_table() and
// exits 1 when CompareResult::failures() > 0.
//
// Default tolerances (a deterministic re-run must land inside them; a real lm-eval file made with
// the same model in float32 should too, see shared/golden/tasks/README.md "What a C++ test should
// assert"):
//  - perplexity-like metrics (perplexity, ppl, word_perplexity, byte_perplexity, bits_per_byte):
//    |Δ| <= rel × |baseline| with rel = 1e-4;
//  - other metrics with a standard error (acc, acc_norm): |Δ| <= stderr_factor × max(stderr_A,
//    stderr_B) with stderr_factor = 2;
//  - always at least the absolute floor abs = 1e-6 (so float noise and identical values pass);
//  - standard errors themselves: |Δ| <= stderr_rel × |baseline stderr| (0.1), plus the floor;
//  - memorization: rows scanned and row range exact; rows memorized, the memorized row set and
//    (when both sides have memorization_scores.csv[.gz]) the per-row scores: at most
//    max_changed_rows (0) rows may differ; mean score |Δ| <= 1e-9; histogram bins exact.
// Per-metric overrides: Rule "abs:X", "rel:X" or "stderr:F" keyed by metric name ("acc") or
// task/metric ("lambada_openai/perplexity"); the task-qualified key wins.
//
// Thread safety: pure functions. Errors: ResultsFileError from reading score files.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "results/results_reader.h"

namespace pythia::results {

struct ToleranceRule {
  enum class Kind { kAbs, kRel, kStderr };
  Kind kind = Kind::kAbs;
  double value = 0.0;
};

// Parses "abs:X", "rel:X" or "stderr:F" (X, F >= 0). Throws std::invalid_argument.
ToleranceRule parse_tolerance_rule(const std::string& spec);

struct CompareOptions {
  double abs_floor = 1e-6;
  double rel = 1e-4;            // perplexity-like metrics
  double stderr_factor = 2.0;   // metrics with a standard error
  double stderr_rel = 0.1;      // the standard errors themselves
  bool check_stderr = true;
  bool one_sided = false;       // only a change in the worse direction is a failure
  std::int64_t max_changed_rows = 0;
  double mean_score_abs = 1e-9;
  bool compare_scores_csv = true;
  std::map<std::string, ToleranceRule> overrides;  // "metric" or "task/metric"
};

struct CompareRow {
  enum class Status { kOk, kOutOfTolerance, kMissing, kNew };
  std::string where;   // folder key ("." for single files)
  std::string task;    // task name, or "memorization"
  std::string metric;  // e.g. "acc", "acc_stderr", "rows_memorized"
  std::optional<double> baseline, candidate;
  double diff = 0.0;   // candidate - baseline (0 when one side is missing)
  double allowed = 0.0;
  std::string rule;    // human-readable tolerance, e.g. "2x stderr", "rel 1e-04", "exact"
  Status status = Status::kOk;
};

struct CompareResult {
  std::vector<CompareRow> rows;
  std::vector<std::string> notes;  // e.g. "rows differing: 12 (first 7, 94, ...)"
  int failures() const;            // rows that are kOutOfTolerance or kMissing
};

CompareResult compare_eval(const EvalFile& baseline, const EvalFile& candidate,
                           const std::string& where, const CompareOptions& options);
CompareResult compare_memorization(const MemorizationResult& baseline,
                                   const MemorizationResult& candidate, const std::string& where,
                                   const CompareOptions& options);
// Every folder of the baseline must exist in the candidate (missing -> failure); folders only in
// the candidate are listed as new. When either tree is `published` (Pythia's evals/, e.g. ours
// against EleutherAI's), evals are matched by checkpoint instead (results/published_evals.h:
// size, step, num_fewshot; `where` is its label "160m step3000 0-shot"), only checkpoints and
// tasks present on both sides are compared, and the others are counted in notes (a published
// file holds 65-87 tasks; that we ran fewer is not a regression). When either side is a single file (key "."), it is compared with
// the other side's only result of the same kind, whatever its folder.
CompareResult compare_trees(const ResultTree& baseline, const ResultTree& candidate,
                            const CompareOptions& options);

// The table: where | task | metric | baseline | new | diff | allowed | status, then a summary line.
// With `only_problems`, rows that are ok are left out (the summary still counts them).
std::string format_compare_table(const CompareResult& result, bool only_problems = false);

}  // namespace pythia::results

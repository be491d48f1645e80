// Reductions over one logit row (vocab_size floats) shared by score, generate, eval and memorize.
//
// Tie rule: torch.argmax / torch.topk on CPU return the FIRST index of the maximum, so every
// function here scans ids in ascending order and only replaces on a strictly larger value.
// NaN: a NaN logit is a bug upstream; NaNs are skipped by the comparisons and reported through
// Top2::any_nan (argmax() skips them silently; call top2() where detection matters).
// All functions are pure and thread-safe.
#pragma once

#include <span>

namespace pythia::model {

struct Top2 {
  int best_id = -1;      // id of the largest logit (first index on ties); -1 if none
  float best = 0.0f;     // its value (-inf when best_id == -1)
  int second_id = -1;    // id of the largest logit among the others; -1 if none
  float second = 0.0f;   // its value (-inf when second_id == -1); == best on an exact tie
  bool any_nan = false;  // some (non-excluded) logit was NaN
};

// Largest and second-largest logit, ids ascending on ties (torch.argmax: first index wins).
// `excluded_id` (e.g. EOS 0 under the eval_memorization min_length policy, which sets its logit
// to -inf) is skipped; -1 = none.
Top2 top2(std::span<const float> logits, int excluded_id = -1);

// Id of the first maximum, skipping `excluded_id` (-1 = none) and NaNs; -1 if nothing is left.
int argmax(std::span<const float> logits, int excluded_id = -1);

// log(sum(exp(logits))) in natural log: max-shifted; the sum accumulates in double in a fixed
// order (kernels.h sum_exp_shifted: exp vectorised in float, |relative error| < 2e-7; well inside
// the 1e-4 golden tolerance), so the value is deterministic. Empty row -> -inf. A row with a NaN gives NaN; all -inf gives -inf.
double logsumexp(std::span<const float> logits);

}  // namespace pythia::model

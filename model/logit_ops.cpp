#include "model/logit_ops.h"

#include <cmath>
#include <limits>

#include "model/kernels.h"

namespace pythia::model {

Top2 top2(std::span<const float> logits, int excluded_id) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  Top2 r;
  r.best = kNegInf;
  r.second = kNegInf;
  const int n = static_cast<int>(logits.size());
  for (int i = 0; i < n; ++i) {
    if (i == excluded_id) continue;
    const float v = logits[static_cast<std::size_t>(i)];
    if (std::isnan(v)) {
      r.any_nan = true;
      continue;
    }
    if (r.best_id < 0 || v > r.best) {
      // The old best becomes the second (it has a smaller id, but a strictly smaller value).
      r.second_id = r.best_id;
      r.second = r.best;
      r.best_id = i;
      r.best = v;
    } else if (r.second_id < 0 || v > r.second) {
      r.second_id = i;
      r.second = v;
    }
  }
  return r;
}

int argmax(std::span<const float> logits, int excluded_id) {
  int best_id = -1;
  float best = 0.0f;
  const int n = static_cast<int>(logits.size());
  for (int i = 0; i < n; ++i) {
    if (i == excluded_id) continue;
    const float v = logits[static_cast<std::size_t>(i)];
    if (std::isnan(v)) continue;
    if (best_id < 0 || v > best) {
      best_id = i;
      best = v;
    }
  }
  return best_id;
}

double logsumexp(std::span<const float> logits) {
  if (logits.empty()) return -std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  for (const float v : logits) {
    if (std::isnan(v)) return std::numeric_limits<double>::quiet_NaN();
    if (v > max) max = v;
  }
  if (std::isinf(max)) return max;  // all -inf -> -inf; any +inf -> +inf
  const double sum = sum_exp_shifted(logits.data(), logits.size(), static_cast<float>(max));
  return max + std::log(sum);
}

}  // namespace pythia::model

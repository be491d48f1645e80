#include "model/logit_ops.h"

#include <cmath>
#include <limits>

#include "model/kernels.h"

namespace pythia::model {
namespace {

// The definitions (scalar, NaN-skipping); the vectorised versions below give the same results
// and fall back to these when a row holds a NaN.

Top2 top2_scalar(std::span<const float> logits, int excluded_id) {
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

int argmax_scalar(std::span<const float> logits, int excluded_id) {
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

}  // namespace

Top2 top2(std::span<const float> logits, int excluded_id) {
  const float* x = logits.data();
  const int n = static_cast<int>(logits.size());
  bool nan = false;
  const float best = max_except(x, n, excluded_id, -1, &nan);
  if (nan) return top2_scalar(logits, excluded_id);
  Top2 r;
  r.best_id = first_equal(x, n, best, excluded_id, -1);
  r.best = best;
  r.second = max_except(x, n, excluded_id, r.best_id, &nan);
  r.second_id = r.best_id < 0 ? -1 : first_equal(x, n, r.second, excluded_id, r.best_id);
  if (r.second_id < 0) r.second = -std::numeric_limits<float>::infinity();
  return r;
}

int argmax(std::span<const float> logits, int excluded_id) {
  const float* x = logits.data();
  const int n = static_cast<int>(logits.size());
  bool nan = false;
  const float best = max_except(x, n, excluded_id, -1, &nan);
  if (nan) return argmax_scalar(logits, excluded_id);
  return first_equal(x, n, best, excluded_id, -1);
}

double logsumexp(std::span<const float> logits) {
  if (logits.empty()) return -std::numeric_limits<double>::infinity();
  bool nan = false;
  const double max = max_except(logits.data(), static_cast<int>(logits.size()), -1, -1, &nan);
  if (nan) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(max)) return max;  // all -inf -> -inf; any +inf -> +inf
  const double sum = sum_exp_shifted(logits.data(), logits.size(), static_cast<float>(max));
  return max + std::log(sum);
}

}  // namespace pythia::model

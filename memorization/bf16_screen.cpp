// See bf16_screen.h: calibration (max_logit_deviation) and the screen -> re-score scanner.
#include "memorization/bf16_screen.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace pythia::memorization {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// max |a - b| over one logit row pair; +inf when either holds a non-finite value.
double row_deviation(std::span<const float> a, std::span<const float> b) {
  double d = 0.0;
  for (std::size_t v = 0; v < a.size(); ++v) {
    if (!std::isfinite(a[v]) || !std::isfinite(b[v])) return kInf;
    d = std::max(d, std::abs(static_cast<double>(a[v]) - static_cast<double>(b[v])));
  }
  return d;
}

// Teacher-forced forward of x[0 .. P+L-2] with logits at P-1 .. P+L-2, for one row.
double forward_deviation(const model::CausalLm& fast, const model::CausalLm& exact,
                         std::span<const model::Token> w, int P, int L) {
  const int n = P + L - 1, V = exact.vocab_size();
  std::vector<int> rows(static_cast<std::size_t>(L));
  for (int i = 0; i < L; ++i) rows[static_cast<std::size_t>(i)] = P - 1 + i;
  std::vector<float> ref(static_cast<std::size_t>(L) * V);
  const auto toks = w.first(static_cast<std::size_t>(n));
  model::KvCache ce = exact.make_cache(n), cf = fast.make_cache(n);
  exact.forward(toks, ce, rows, [&](int r, std::span<const float> l) {
    std::copy(l.begin(), l.end(), ref.begin() + static_cast<std::ptrdiff_t>(r - (P - 1)) * V);
  });
  double d = 0.0;
  fast.forward(toks, cf, rows, [&](int r, std::span<const float> l) {
    d = std::max(d, row_deviation(l, std::span<const float>(ref).subspan(static_cast<std::size_t>(r - (P - 1)) * V, static_cast<std::size_t>(V))));
  });
  return d;
}

}  // namespace

double max_logit_deviation(const model::CausalLm& fast, const model::CausalLm& exact,
                           std::span<const model::Token> windows, int P, int L) {
  const int W = P + L, V = exact.vocab_size();
  const int B = static_cast<int>(windows.size() / static_cast<std::size_t>(W));
  if (B == 0) return 0.0;
  auto row = [&](int b) { return windows.subspan(static_cast<std::size_t>(b) * W, static_cast<std::size_t>(W)); };
  std::vector<double> dev(static_cast<std::size_t>(B), 0.0);
  tbb::parallel_for(0, B, [&](int b) { dev[static_cast<std::size_t>(b)] = forward_deviation(fast, exact, row(b), P, L); });
  // Decode path: forward x[0 .. P-1] (logit at P-1 already compared above), then decode
  // x[P .. P+L-2] one step at a time, all rows batched, comparing each step's logits.
  std::vector<model::KvCache> ce, cf;
  for (int b = 0; b < B; ++b) ce.push_back(exact.make_cache(W)), cf.push_back(fast.make_cache(W));
  tbb::parallel_for(0, B, [&](int b) {
    const auto prompt = row(b).first(static_cast<std::size_t>(P));
    exact.forward(prompt, ce[static_cast<std::size_t>(b)], {}, [](int, std::span<const float>) {});
    fast.forward(prompt, cf[static_cast<std::size_t>(b)], {}, [](int, std::span<const float>) {});
  });
  std::vector<model::KvCache*> pe, pf;
  for (int b = 0; b < B; ++b) pe.push_back(&ce[static_cast<std::size_t>(b)]), pf.push_back(&cf[static_cast<std::size_t>(b)]);
  std::vector<float> ref(static_cast<std::size_t>(B) * V);
  std::vector<model::Token> step(static_cast<std::size_t>(B));
  for (int t = P; t < P + L - 1; ++t) {
    for (int b = 0; b < B; ++b) step[static_cast<std::size_t>(b)] = row(b)[static_cast<std::size_t>(t)];
    exact.decode(step, pe, [&](int b, std::span<const float> l) {
      std::copy(l.begin(), l.end(), ref.begin() + static_cast<std::ptrdiff_t>(b) * V);
    });
    fast.decode(step, pf, [&](int b, std::span<const float> l) {
      double& d = dev[static_cast<std::size_t>(b)];
      d = std::max(d, row_deviation(l, std::span<const float>(ref).subspan(static_cast<std::size_t>(b) * V, static_cast<std::size_t>(V))));
    });
  }
  return *std::max_element(dev.begin(), dev.end());
}

ScreenedScanner::ScreenedScanner(const model::CausalLm& fast, const model::CausalLm& exact,
                                 ScanConfig config, double tau, double max_deviation,
                                 std::uint64_t calibration_rows)
    : fast_(fast, config),
      exact_(exact, config),
      max_deviation_(max_deviation),
      bound_(kSafetyFactor * 2.0 * max_deviation),
      threshold_(tau + bound_),
      calibration_rows_(calibration_rows) {}

model::Workload screened_workload(model::Workload scan) {
  const std::int64_t cal = 2 * static_cast<std::int64_t>(kCalibrationRows);
  if (scan.sequences < cal) {
    scan.sequences = cal;
    scan.what = "memorize --compute bf16: calibration of " + std::to_string(kCalibrationRows) +
                " rows x 2 models; then " + scan.what;
  }
  scan.bf16_copies = true;
  return scan;
}

void ScreenedScanner::score(std::span<const model::Token> windows,
                            std::span<const std::uint64_t> indices, std::span<RowScore> out,
                            bool parallel, std::span<TokenStat> stats) const {
  if (!stats.empty()) {
    exact_.score(windows, indices, out, parallel, stats);
    screened_ += out.size();
    rechecked_ += out.size();
    return;
  }
  fast_.score(windows, indices, out, parallel);
  const std::size_t W = static_cast<std::size_t>(config().window());
  std::vector<std::size_t> redo;
  for (std::size_t b = 0; b < out.size(); ++b) {
    // !(margin >= threshold) also catches a NaN margin and an infinite threshold.
    if (out[b].nan || !(static_cast<double>(out[b].min_margin) >= threshold_)) redo.push_back(b);
  }
  screened_ += out.size();
  if (redo.empty()) return;
  rechecked_ += redo.size();
  std::vector<model::Token> w(redo.size() * W);
  std::vector<std::uint64_t> idx(redo.size());
  std::vector<RowScore> exact(redo.size());
  for (std::size_t i = 0; i < redo.size(); ++i) {
    std::copy_n(windows.begin() + static_cast<std::ptrdiff_t>(redo[i] * W), W, w.begin() + static_cast<std::ptrdiff_t>(i * W));
    idx[i] = indices[redo[i]];
  }
  exact_.score(w, idx, exact, parallel);
  for (std::size_t i = 0; i < redo.size(); ++i) out[redo[i]] = exact[i];
}

ScreenStats ScreenedScanner::stats() const {
  ScreenStats s;
  s.max_deviation = max_deviation_;
  s.bound = bound_;
  s.threshold = threshold_;
  s.calibration_rows = calibration_rows_;
  s.rows_screened = screened_.load();
  s.rows_rechecked = rechecked_.load();
  return s;
}

}  // namespace pythia::memorization

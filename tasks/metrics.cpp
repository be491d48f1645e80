#include "tasks/metrics.h"

#include <tbb/parallel_for.h>

#include <cmath>
#include <stdexcept>

#include "tasks/python_random.h"

namespace pythia::tasks {

double mean(std::span<const double> xs) {
  if (xs.empty()) throw std::invalid_argument("mean of an empty list");
  double s = 0.0;
  for (double x : xs) s += x;
  return s / static_cast<double>(xs.size());
}

double sample_stddev(std::span<const double> xs) {
  if (xs.size() < 2) throw std::invalid_argument("sample_stddev needs two values");
  const double mu = mean(xs);
  double s = 0.0;
  for (double x : xs) s += (x - mu) * (x - mu);
  return std::sqrt(s / static_cast<double>(xs.size() - 1));
}

double mean_stderr(std::span<const double> xs) {
  return sample_stddev(xs) / std::sqrt(static_cast<double>(xs.size()));
}

double perplexity(std::span<const double> lls) { return std::exp(-mean(lls)); }

namespace {
std::pair<double, double> sums(std::span<const std::pair<double, double>> pairs) {
  double a = 0.0, b = 0.0;
  for (const auto& [ll, n] : pairs) {
    a += ll;
    b += n;
  }
  return {a, b};
}
}  // namespace

double weighted_perplexity(std::span<const std::pair<double, double>> pairs) {
  const auto [a, b] = sums(pairs);
  return std::exp(-a / b);
}

double bits_per_byte(std::span<const std::pair<double, double>> pairs) {
  const auto [a, b] = sums(pairs);
  return -(a / b) / std::log(2.0);
}

double bootstrap_perplexity_stderr(std::span<const double> xs, std::int64_t iters) {
  if (iters < 1 || xs.empty()) throw std::invalid_argument("bootstrap: bad arguments");
  const std::int64_t chunk = std::min<std::int64_t>(1000, iters);
  const std::int64_t n_chunks = iters / chunk;
  std::vector<double> stats(static_cast<std::size_t>(n_chunks * chunk));
  const std::size_t n = xs.size();
  tbb::parallel_for(std::int64_t{0}, n_chunks, [&](std::int64_t c) {
    PythonRandom rnd(static_cast<std::uint64_t>(c));
    for (std::int64_t r = 0; r < chunk; ++r) {
      double s = 0.0;
      for (std::size_t k = 0; k < n; ++k) s += xs[rnd.choice_index(n)];
      stats[static_cast<std::size_t>(c * chunk + r)] = std::exp(-(s / static_cast<double>(n)));
    }
  });
  return sample_stddev(stats);
}

std::optional<double> stderr_for(Aggregation agg, std::span<const double> xs,
                                 std::int64_t bootstrap_iters) {
  if (bootstrap_iters <= 0 || xs.size() < 2) return std::nullopt;
  switch (agg) {
    case Aggregation::kMean:
      return mean_stderr(xs);
    case Aggregation::kPerplexity:
      return bootstrap_perplexity_stderr(xs, bootstrap_iters);
    case Aggregation::kWeightedPerplexity:
    case Aggregation::kBitsPerByte:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace pythia::tasks

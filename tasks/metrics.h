// Aggregations and standard errors of lm-eval v0.4 `lm_eval/api/metrics.py` (same formulas in
// v0.3 `lm_eval/metrics.py`), spec tasks.md §1.6. Sums run left to right in the given order, as
// Python's built-in sum() of CPython 3.11 (no compensated summation).
//
// All functions are pure; bootstrap_perplexity_stderr uses TBB internally but its result does not
// depend on the thread count (every chunk is independent and reduced in chunk order).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace pythia::tasks {

// sum(xs) / len(xs). REQUIRES: xs non-empty.
double mean(std::span<const double> xs);
// sqrt(sum((x - mean)^2) / (n - 1)). REQUIRES: xs.size() >= 2.
double sample_stddev(std::span<const double> xs);
// sample_stddev(xs) / sqrt(n).
double mean_stderr(std::span<const double> xs);
// exp(-mean(lls)).
double perplexity(std::span<const double> lls);
// exp(-sum(ll) / sum(n)) over (ll, n) pairs (wikitext word/byte perplexity).
double weighted_perplexity(std::span<const std::pair<double, double>> pairs);
// -(sum(ll) / sum(n)) / ln 2.
double bits_per_byte(std::span<const std::pair<double, double>> pairs);

// lm-eval `bootstrap_stderr(perplexity, xs, iters)`: chunk = min(1000, iters); for i in
// 0 .. iters/chunk - 1 a random.Random(i) draws `chunk` resamples `choices(xs, k=len(xs))` and
// records exp(-mean(resample)); returns sample_stddev of all recorded statistics (in chunk order).
// Bit-exact with CPython's generator. REQUIRES: iters >= 1, xs non-empty.
double bootstrap_perplexity_stderr(std::span<const double> xs, std::int64_t iters);

// Stderr for an aggregation, lm-eval's rule (`stderr_for_metric` + evaluator): nullopt ("N/A")
// when bootstrap_iters == 0 or there is a single document.
enum class Aggregation { kMean, kPerplexity, kWeightedPerplexity, kBitsPerByte };
std::optional<double> stderr_for(Aggregation agg, std::span<const double> xs,
                                 std::int64_t bootstrap_iters);

}  // namespace pythia::tasks

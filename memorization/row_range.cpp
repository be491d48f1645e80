#include "memorization/row_range.h"

#include <charconv>

#include "data/error.h"
#include "results/output_layout.h"

namespace pythia::memorization {
namespace {

std::optional<std::uint64_t> parse_u64(const std::string& s) {
  std::uint64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

ShardSpec parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  const auto k = slash == std::string::npos ? std::nullopt : parse_u64(text.substr(0, slash));
  const auto n = slash == std::string::npos ? std::nullopt : parse_u64(text.substr(slash + 1));
  if (!k || !n || *n == 0 || *k >= *n) {
    throw UsageError("--shard '" + text + "': expected K/N with 0 <= K < N (e.g. 0/4)");
  }
  return ShardSpec{*k, *n, "--shard"};
}

std::pair<std::uint64_t, std::uint64_t> shard_range(std::uint64_t begin, std::uint64_t end,
                                                    const ShardSpec& s) {
  // floor(R*k/N) without overflow: R = q*N + r, so R*k/N = q*k + floor(r*k/N) (r, k < N).
  const std::uint64_t rows = end - begin, q = rows / s.count, r = rows % s.count;
  auto cut = [&](std::uint64_t k) { return q * k + r * k / s.count; };
  return {begin + cut(s.index), begin + cut(s.index + 1)};
}

std::string shard_dir_name(const ShardSpec& s) { return results::shard_folder(s.index, s.count); }

std::pair<std::uint64_t, std::uint64_t> rows_of_step(std::int64_t step, std::int64_t sequences_per_step) {
  if (step < 0 || step > kLastPythiaStep) {
    throw UsageError("step " + std::to_string(step) + " is outside 0..143000 (Pythia's last step)");
  }
  if (sequences_per_step < 1) throw UsageError("--sequences-per-step must be >= 1");
  return {0, static_cast<std::uint64_t>(step) * static_cast<std::uint64_t>(sequences_per_step)};
}

}  // namespace pythia::memorization

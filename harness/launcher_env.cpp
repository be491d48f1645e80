#include "harness/launcher_env.h"

#include <charconv>
#include <cstdlib>

#include "data/error.h"

namespace pythia::harness {
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

std::optional<ShardSpec> shard_from_env(const GetEnv& getenv_fn) {
  static const char* const kPairs[][2] = {{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
                                          {"PMI_RANK", "PMI_SIZE"},
                                          {"SLURM_PROCID", "SLURM_NTASKS"}};
  for (const auto& pair : kPairs) {
    const char* rank = getenv_fn(pair[0]);
    const char* size = getenv_fn(pair[1]);
    if (rank == nullptr || size == nullptr) continue;
    const auto k = parse_u64(rank), n = parse_u64(size);
    if (!k || !n || *n == 0 || *k >= *n) {
      throw UsageError(std::string("launcher environment ") + pair[0] + "=" + rank + ", " + pair[1] + "=" +
                       size + " is not a valid rank/size");
    }
    return ShardSpec{*k, *n, pair[0]};
  }
  return std::nullopt;
}

std::optional<ShardSpec> shard_from_env() {
  return shard_from_env([](const char* name) -> const char* { return std::getenv(name); });
}

std::pair<std::uint64_t, std::uint64_t> shard_range(std::uint64_t begin, std::uint64_t end,
                                                    const ShardSpec& s) {
  // floor(R*k/N) without overflow: R = q*N + r, so R*k/N = q*k + floor(r*k/N) (r, k < N).
  const std::uint64_t rows = end - begin, q = rows / s.count, r = rows % s.count;
  auto cut = [&](std::uint64_t k) { return q * k + r * k / s.count; };
  return {begin + cut(s.index), begin + cut(s.index + 1)};
}

std::string shard_dir_name(const ShardSpec& s) {
  return "shard-" + std::to_string(s.index) + "-of-" + std::to_string(s.count);
}

}  // namespace pythia::harness

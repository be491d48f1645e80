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

}  // namespace pythia::harness

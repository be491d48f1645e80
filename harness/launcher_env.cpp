#include "harness/launcher_env.h"

#include <cstdlib>

#include "data/error.h"

namespace pythia::harness {
std::optional<ShardSpec> shard_from_env(const GetEnv& getenv_fn) {
  static const char* const kPairs[][2] = {{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
                                          {"PMI_RANK", "PMI_SIZE"},
                                          {"SLURM_PROCID", "SLURM_NTASKS"}};
  for (const auto& pair : kPairs) {
    const char* rank = getenv_fn(pair[0]);
    const char* size = getenv_fn(pair[1]);
    if (rank == nullptr || size == nullptr) continue;
    try {
      ShardSpec s = memorization::parse_shard(std::string(rank) + "/" + size);  // K/N, 0 <= K < N
      s.source = pair[0];
      return s;
    } catch (const UsageError&) {
      throw UsageError(std::string("launcher environment ") + pair[0] + "=" + rank + ", " + pair[1] + "=" +
                       size + " is not a valid rank/size");
    }
  }
  return std::nullopt;
}

std::optional<ShardSpec> shard_from_env() {
  return shard_from_env([](const char* name) -> const char* { return std::getenv(name); });
}

}  // namespace pythia::harness

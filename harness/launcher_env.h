// Scale-out of `memorize` without linking MPI: which slice of the row range this process scans.
//
// The slice comes from `--shard K/N` or, when that flag is absent, from the environment a launcher
// sets: Open MPI (OMPI_COMM_WORLD_RANK / OMPI_COMM_WORLD_SIZE), MPICH/Intel MPI/PMI (PMI_RANK /
// PMI_SIZE) or Slurm srun (SLURM_PROCID / SLURM_NTASKS), checked in that order. Shard K of N scans
// the contiguous rows [begin + floor(R*K/N), begin + floor(R*(K+1)/N)) of the R-row range, so the
// shards tile the range in order and `merge` concatenates them. Shard K's outputs go to
// DIR/<model>/<revision>/shard-K-of-N/ (K is 0-based, N is the count).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "memorization/row_range.h"

namespace pythia::harness {

using memorization::ShardSpec;

using GetEnv = std::function<const char*(const char*)>;

// The launcher's rank and size, or nullopt when no launcher variables are set. Variables that are
// set but malformed (non-numeric, rank >= size) throw UsageError naming them.
std::optional<ShardSpec> shard_from_env(const GetEnv& getenv_fn);
std::optional<ShardSpec> shard_from_env();  // with ::getenv

}  // namespace pythia::harness

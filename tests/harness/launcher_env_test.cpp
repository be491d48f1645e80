// Shard slices (memorization/row_range.h) and the launcher environment that chooses them
// (harness/launcher_env.h: Open MPI, PMI, Slurm variables in priority order).
#include "harness/launcher_env.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "data/error.h"

namespace {
using namespace pythia::memorization;
using pythia::UsageError;

TEST(LauncherEnv, ShardSlicesTileTheRange) {
  EXPECT_THROW(parse_shard("3/3"), UsageError);
  EXPECT_THROW(parse_shard("1"), UsageError);
  EXPECT_THROW(parse_shard("a/2"), UsageError);
  for (std::uint64_t n : {1u, 2u, 3u, 7u, 512u}) {
    std::uint64_t cursor = 5;
    for (std::uint64_t k = 0; k < n; ++k) {
      const auto [a, b] = shard_range(5, 1005, ShardSpec{k, n, ""});
      EXPECT_EQ(a, cursor);
      EXPECT_LE(b - a, 1000 / n + 1);
      cursor = b;
    }
    EXPECT_EQ(cursor, 1005u);
  }
  const auto s = parse_shard("2/5");
  EXPECT_EQ(s.index, 2u);
  EXPECT_EQ(shard_dir_name(s), "shard-2-of-5");
  // Launcher variables, in priority order.
  std::map<std::string, std::string> env = {{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}};
  auto get = [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto r = pythia::harness::shard_from_env(get);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->index, 3u);
  EXPECT_EQ(r->count, 4u);
  EXPECT_EQ(r->source, "SLURM_PROCID");
  env["OMPI_COMM_WORLD_RANK"] = "1";
  env["OMPI_COMM_WORLD_SIZE"] = "2";
  EXPECT_EQ(pythia::harness::shard_from_env(get)->source, "OMPI_COMM_WORLD_RANK");
  env["OMPI_COMM_WORLD_RANK"] = "2";
  EXPECT_THROW(pythia::harness::shard_from_env(get), UsageError);
  env.clear();
  EXPECT_FALSE(pythia::harness::shard_from_env(get));
}

}  // namespace

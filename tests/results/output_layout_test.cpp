// results/output_layout.h: the one place that names output folders.
#include "results/output_layout.h"

#include <gtest/gtest.h>

namespace {
using namespace pythia::results;

TEST(OutputLayout, RunAndShardFolders) {
  EXPECT_EQ(run_dir("out", "pythia-70m", "step3000"), std::filesystem::path("out/pythia-70m/step3000"));
  EXPECT_EQ(run_dir("out", "pythia-tiny", ""), std::filesystem::path("out/pythia-tiny/main"));
  EXPECT_EQ(shard_folder(2, 5), "shard-2-of-5");
  const auto kn = parse_shard_folder("shard-2-of-5");
  ASSERT_TRUE(kn);
  EXPECT_EQ(kn->first, 2u);
  EXPECT_EQ(kn->second, 5u);
  for (const char* bad : {"shard-5-of-5", "shard-1-of-", "shard--of-2", "shard-1-of-2x", "xshard-1-of-2",
                          "shard-a-of-2", "step1"}) {
    EXPECT_FALSE(parse_shard_folder(bad)) << bad;
  }
}

}  // namespace

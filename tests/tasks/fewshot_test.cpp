// Few-shot sampling (tasks/fewshot.h): CPython's random.sample (both branches of Lib/random.py
// 3.11: pool swap for n <= setsize, rejection set above it), and the k-shot mechanics on a real
// task: prefixes of a --limit run are a prefix of the full run, k = 0 changes nothing, and a pool
// too small for a draw is a clear DataError.
#include <gtest/gtest.h>

#include <filesystem>

#include "data/error.h"
#include "tasks/fewshot.h"
#include "tasks/python_random.h"
#include "tasks/registry.h"

namespace fs = std::filesystem;
using namespace pythia::tasks;

namespace {

const fs::path kData = fs::path(PYTHIA_FIXTURES_DIR) / "tasks";

TEST(PythonRandomSample, MatchesCPython) {
  // Expected values printed by Debian's CPython 3.11.2:
  //   r = random.Random(1234); r.sample(range(100), 6), r.sample(range(50), 6), ... (one generator)
  PythonRandom r(1234);
  using V = std::vector<std::size_t>;
  EXPECT_EQ(r.sample_indices(100, 6), (V{99, 56, 14, 0, 11, 74}));   // 100 > setsize 85: set
  EXPECT_EQ(r.sample_indices(50, 6), (V{2, 42, 44, 5, 6, 22}));      // 50 <= 85: pool
  EXPECT_EQ(r.sample_indices(10, 5), (V{3, 0, 8, 6, 7}));            // k = 5: setsize 21
  EXPECT_EQ(r.sample_indices(1000, 5), (V{354, 663, 638, 495, 630}));
  EXPECT_EQ(r.sample_indices(22, 5), (V{14, 4, 2, 5, 3}));           // 22 > 21: set
  EXPECT_EQ(r.sample_indices(85, 6), (V{1, 64, 62, 31, 8, 69}));     // boundary: pool
  EXPECT_EQ(r.sample_indices(86, 6), (V{59, 8, 76, 11, 65, 74}));    // boundary: set
}

TEST(Fewshot, LimitRunIsPrefixOfFullRun) {
  auto full = make_task("arc_easy");
  full->load(kData, std::nullopt);
  apply_fewshot(*full, 3, kData);
  auto lim = make_task("arc_easy");
  lim->load(kData, 25);
  apply_fewshot(*lim, 3, kData);
  ASSERT_EQ(lim->size(), 25);
  for (std::int64_t d = 0; d < 25; ++d) {
    EXPECT_EQ(lim->fewshot_prefix(d), full->fewshot_prefix(d)) << d;
    EXPECT_EQ(lim->requests(d)[0].context, full->requests(d)[0].context) << d;
  }
  EXPECT_EQ(full->num_fewshot(), 3);
}

TEST(Fewshot, ZeroShotUnchangedAndPrefixPrepended) {
  auto t0 = make_task("piqa");
  t0->load(kData, 5);
  auto t5 = make_task("piqa");
  t5->load(kData, 5);
  apply_fewshot(*t0, 0, kData);
  apply_fewshot(*t5, 5, kData);
  EXPECT_EQ(t0->num_fewshot(), 0);
  for (std::int64_t d = 0; d < 5; ++d) {
    EXPECT_EQ(t0->fewshot_prefix(d), "");
    const auto r0 = t0->requests(d);
    const auto r5 = t5->requests(d);
    ASSERT_EQ(r0.size(), r5.size());
    for (std::size_t i = 0; i < r0.size(); ++i) {
      EXPECT_EQ(r5[i].context, t5->fewshot_prefix(d) + r0[i].context);
      EXPECT_EQ(r5[i].continuation, r0[i].continuation);
    }
    // five examples, each ending in the fewshot delimiter
    const std::string& p = t5->fewshot_prefix(d);
    EXPECT_EQ(p.substr(p.size() - 2), "\n\n");
  }
}

TEST(Fewshot, PoolTooSmallIsDataError) {
  auto t = make_task("sciq");  // sample pool: 30 examples
  t->load(kData, 2);
  EXPECT_THROW(apply_fewshot(*t, 31, kData), pythia::DataError);
  EXPECT_THROW(apply_fewshot(*t, -1, kData), pythia::UsageError);
}

TEST(Fewshot, MissingPoolFileNamesIt) {
  const fs::path dir = fs::temp_directory_path() / "pythia_fewshot_missing";
  fs::create_directories(dir / "arc_challenge");
  fs::copy_file(kData / "arc_challenge/ARC-Challenge-Test.jsonl",
                dir / "arc_challenge/ARC-Challenge-Test.jsonl", fs::copy_options::overwrite_existing);
  auto t = make_task("arc_challenge");
  t->load(dir, 3);
  try {
    apply_fewshot(*t, 5, dir);
    FAIL() << "no error";
  } catch (const pythia::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("ARC-Challenge-Train.jsonl"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(Fewshot, RollingTaskKeepsRequests) {
  auto t = make_task("wikitext");
  t->load(kData, std::nullopt);
  const auto before = t->requests(0);
  apply_fewshot(*t, 5, kData);  // no pool needed: lm-eval discards the context
  EXPECT_EQ(t->num_fewshot(), 5);
  EXPECT_EQ(t->requests(0)[0].continuation, before[0].continuation);
  EXPECT_EQ(t->requests(0)[0].context, "");
}

}  // namespace

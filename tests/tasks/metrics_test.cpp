// tasks/metrics + tasks/python_random: CPython's generator bit for bit, lm-eval's aggregations,
// and the lambada bootstrap stderr reproduced from lm-eval's own per-document values (golden).
#include "tasks/metrics.h"

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "data/jsonl_reader.h"
#include "tasks/python_random.h"

namespace fs = std::filesystem;
using namespace pythia::tasks;

// Expected values printed by CPython 3.11:
//   random.Random(0).random() x3, random.Random(7).getrandbits(32) x3,
//   random.Random(42).shuffle(list(range(10))), random.Random(99).choices(range(5153), k=5),
//   random.Random(2**40+5).random().
TEST(PythonRandom, MatchesCPython) {
  PythonRandom r0(0);
  EXPECT_EQ(r0.random(), 0.8444218515250481);
  EXPECT_EQ(r0.random(), 0.7579544029403025);
  EXPECT_EQ(r0.random(), 0.420571580830845);
  PythonRandom r7(7);
  EXPECT_EQ(r7.getrandbits(32), 1390851128u);
  EXPECT_EQ(r7.getrandbits(32), 4071050724u);
  EXPECT_EQ(r7.getrandbits(32), 647892279u);
  PythonRandom r42(42);
  std::vector<int> x{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  r42.shuffle(x);
  EXPECT_EQ(x, (std::vector<int>{7, 3, 2, 8, 5, 6, 9, 4, 0, 1}));
  PythonRandom r99(99);
  std::vector<std::size_t> picks;
  for (int i = 0; i < 5; ++i) picks.push_back(r99.choice_index(5153));
  EXPECT_EQ(picks, (std::vector<std::size_t>{2081, 1030, 921, 1280, 3915}));
  PythonRandom rbig((1ULL << 40) + 5);
  EXPECT_EQ(rbig.random(), 0.5043802970418443);
}

TEST(Metrics, MeanStderrMatchesSpecCheck) {
  // spec §1.6: Pythia sciq acc 0.606, n = 1000 -> 0.0154597...
  std::vector<double> xs(1000, 0.0);
  for (int i = 0; i < 606; ++i) xs[static_cast<std::size_t>(i)] = 1.0;
  EXPECT_DOUBLE_EQ(mean(xs), 0.606);
  EXPECT_NEAR(mean_stderr(xs), std::sqrt(0.606 * 0.394 / 999.0), 1e-15);
  EXPECT_NEAR(mean_stderr(xs), 0.0154597, 1e-7);
}

TEST(Metrics, WeightedAggregations) {
  std::vector<std::pair<double, double>> p{{-10.0, 5.0}, {-20.0, 10.0}};
  EXPECT_DOUBLE_EQ(weighted_perplexity(p), std::exp(2.0));
  EXPECT_DOUBLE_EQ(bits_per_byte(p), 2.0 / std::log(2.0));
  EXPECT_FALSE(stderr_for(Aggregation::kWeightedPerplexity, std::vector<double>{1, 2}, 100000));
  EXPECT_FALSE(stderr_for(Aggregation::kMean, std::vector<double>{1, 2}, 0));
  EXPECT_FALSE(stderr_for(Aggregation::kMean, std::vector<double>{1}, 100000));
}

namespace {
double golden_number(const fs::path& results, const std::string& task, const std::string& key) {
  std::ifstream in(results);
  const auto j = nlohmann::json::parse(in);
  return j.at("results").at(task).at(key).get<double>();
}
}  // namespace

// Golden README step 4: fed with lm-eval's per-document lambada values, the bootstrap must
// reproduce perplexity_stderr to ~1e-9 relative.
TEST(Metrics, BootstrapReproducesLmEvalFromGoldenPerDocValues) {
  for (const char* model : {"pythia-tiny", "neox-variant", "mini-pythia/step36"}) {
    const fs::path dir = fs::path(PYTHIA_FIXTURES_DIR) / "golden/tasks" / model;
    std::vector<double> lls;
    pythia::data::for_each_jsonl(dir / "lambada_openai.docs.jsonl.gz",
                                 [&](std::int64_t, const nlohmann::json& d) {
                                   lls.push_back(d.at("perplexity").get<double>());
                                 });
    ASSERT_EQ(lls.size(), 5153u);
    const double want_ppl = golden_number(dir / "results.json", "lambada_openai", "perplexity,none");
    const double want_se =
        golden_number(dir / "results.json", "lambada_openai", "perplexity_stderr,none");
    const double ppl = perplexity(lls);
    const double se = bootstrap_perplexity_stderr(lls, 100000);
    EXPECT_NEAR(ppl / want_ppl - 1.0, 0.0, 1e-12) << model;
    EXPECT_NEAR(se / want_se - 1.0, 0.0, 1e-9) << model << " got " << se << " want " << want_se;
    std::printf("%s: perplexity rel diff %.3g, bootstrap stderr %.17g vs %.17g (rel %.3g)\n", model,
                ppl / want_ppl - 1.0, se, want_se, se / want_se - 1.0);
  }
}

// The bootstrap splits its iterations into chunks of 1000 seeded by chunk index, run in parallel:
// the value must not depend on the thread count. Small enough to run under ThreadSanitizer (the
// golden case above does 3 x 100000 resamples of 5153 values; the `tsan` preset leaves it out).
TEST(Metrics, BootstrapIsIndependentOfThreadCount) {
  std::vector<double> xs;
  for (int i = 0; i < 500; ++i) xs.push_back(-0.01 * (i % 37) - 0.5);
  const auto run = [&](int threads) {
    double se = 0.0;
    tbb::task_arena(threads).execute([&] { se = bootstrap_perplexity_stderr(xs, 8000); });
    return se;
  };
  const double one = run(1);
  EXPECT_GT(one, 0.0);
  EXPECT_EQ(run(2), one);
  EXPECT_EQ(run(4), one);
}

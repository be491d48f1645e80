// Token statistics (memorization/token_stats.h) against the reference in
// tests/fixtures/golden/token_stats/ (tests/reference/token_stats_reference.py: the float32 torch
// GPT-NeoX forward of tests/reference/gptneox_torch.py, checked against transformers' goldens to
// 1.7e-6): mini-pythia step12 and step36, 6 memmap rows x 32 continuation positions, through
// MemorizationScanner::score (the same pass that scores), and end to end through
// `memorize --token-stats`.
//
// Tolerances, derived from the float32 agreement of two engines' logits, eps = 1e-4 absolute
// (shared/golden/pythia-tiny/README.md "Expect float32 logits to agree to about 1e-4"):
//   logprob = z[y] - lse(z):            |d| <= |dz[y]| + |d lse| <= 2 eps
//   entropy = lse - E_p[z]:             |d| <= 2 eps * (max z - min z)  (per position, from the
//                                       reference's `spread`; a shift of every logit by at most
//                                       eps moves E_p[z] by at most eps + eps * spread's share)
//   rank: |d rank| <= the number of other ids whose reference logit lies within 2 eps of the
//         target's (reference `near`): only those can change order; so the rank is exactly equal
//         wherever near == 0.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/indexed_dataset.h"
#include "memorization/scanner.h"
#include "memorization/token_stats.h"
#include "model/gpt_neox.h"
#include "tests/test_util.h"

namespace {

namespace fs = std::filesystem;
using namespace pythia::memorization;
const fs::path kFix = PYTHIA_FIXTURES_DIR;
constexpr double kEps = 1e-4;

nlohmann::json golden(int step) {
  std::ifstream in(kFix / "golden" / "token_stats" / ("mini_pythia_step" + std::to_string(step) + ".json"));
  return nlohmann::json::parse(in);
}

// Compares stats[r*32 + k] with the golden rows; returns the number of near-tie positions.
int expect_matches_golden(const nlohmann::json& g, const std::vector<TokenStat>& stats) {
  int near_ties = 0, rank_diffs = 0;
  double worst_lp = 0, worst_h = 0;
  for (std::size_t r = 0; r < g["rows"].size(); ++r) {
    const auto& row = g["rows"][r];
    for (int k = 0; k < 32; ++k) {
      const TokenStat& s = stats[r * 32 + static_cast<std::size_t>(k)];
      const double lp = row["logprob"][k], h = row["entropy"][k], spread = row["spread"][k], gap = row["gap"][k];
      const int rank = row["rank"][k];
      EXPECT_NEAR(s.logprob, lp, 2 * kEps) << "row " << row["index"] << " k " << k;
      EXPECT_NEAR(s.entropy, h, 2 * kEps * spread) << "row " << row["index"] << " k " << k;
      worst_lp = std::max(worst_lp, std::abs(s.logprob - lp));
      worst_h = std::max(worst_h, std::abs(s.entropy - h));
      const int near = row["near"][k];
      EXPECT_LE(std::abs(s.rank - rank), near) << "row " << row["index"] << " k " << k << " gap " << gap;
      if (near > 0) ++near_ties;
      if (s.rank != rank) ++rank_diffs;
    }
  }
  std::printf("max |d logprob| %.3g, max |d entropy| %.3g, positions with near ties %d, rank differences %d "
              "(of %zu positions)\n", worst_lp, worst_h, near_ties, rank_diffs, g["rows"].size() * 32);
  return near_ties;
}

TEST(TokenStatsGolden, ScannerPassEqualsReference) {
  for (int step : {12, 36}) {
    const auto g = golden(step);
    const auto lm = pythia::model::load_gpt_neox(kFix / "mini-pythia" / ("step" + std::to_string(step)));
    const pythia::data::IndexedDataset ds(kFix / "mini-pile" / "document");
    std::vector<pythia::model::Token> windows;
    std::vector<std::uint64_t> indices;
    for (const auto& row : g["rows"]) {
      std::vector<pythia::model::Token> w(64);
      ds.read_tokens(row["index"].get<std::uint64_t>(), w);
      for (int t = 0; t < 64; ++t) ASSERT_EQ(w[static_cast<std::size_t>(t)], row["tokens"][t].get<int>());
      windows.insert(windows.end(), w.begin(), w.end());
      indices.push_back(row["index"]);
    }
    ScanConfig cfg;
    cfg.stage_ends = default_stage_ends(32, 32);  // as the job; stats force one full stage
    const MemorizationScanner scanner(*lm, cfg);
    std::vector<RowScore> with(indices.size()), without(indices.size());
    std::vector<TokenStat> stats(indices.size() * 32);
    scanner.score(windows, indices, with, true, stats);
    scanner.score(windows, indices, without, true);
    for (std::size_t b = 0; b < indices.size(); ++b) {  // statistics change no score
      EXPECT_EQ(with[b].matches, without[b].matches);
      EXPECT_EQ(with[b].first_mismatch, without[b].first_mismatch);
      EXPECT_EQ(with[b].min_margin, without[b].min_margin);
    }
    expect_matches_golden(g, stats);
  }
}

TEST(TokenStatsGolden, MemorizeCommandWritesThem) {
  const auto g = golden(36);
  const fs::path out = pythia::testing::fresh_temp_dir("token_stats_golden_cli");
  const auto r = pythia::testing::run_harness(
      "memorize --model " + (kFix / "mini-pythia").string() + " --revision step36 --data " +
      (kFix / "mini-pile" / "document").string() + " --start 0 --end 301 --batch-size 7 --threads 2 "
      "--token-stats --hash-cache none --output " + out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const TokenStatsFile f = read_token_stats_file(out / "mini-pythia" / "step36" / kTokenStatsFile);
  ASSERT_EQ(f.indices.size(), 301u);
  EXPECT_EQ(f.continuation_len, 32);
  for (std::uint64_t i = 0; i < 301; ++i) ASSERT_EQ(f.indices[i], i);
  std::vector<TokenStat> picked;
  for (const auto& row : g["rows"]) {
    const auto i = row["index"].get<std::size_t>();
    picked.insert(picked.end(), f.stats.begin() + static_cast<std::ptrdiff_t>(i * 32),
                  f.stats.begin() + static_cast<std::ptrdiff_t>(i * 32 + 32));
  }
  expect_matches_golden(g, picked);
  EXPECT_FALSE(fs::exists(out / "mini-pythia" / "step36" / kTokenStatsPartial));
  fs::remove_all(out);
}

// Resume: a `memorize --token-stats` killed mid-scan (SIGKILL) and re-run gives the same
// memorization_token_stats.bin, byte for byte, as an uninterrupted run.
TEST(TokenStatsGolden, ResumedAfterKillGivesTheSameFile) {
  const fs::path root = pythia::testing::fresh_temp_dir("token_stats_resume");
  const std::string common = " memorize --model " + (kFix / "mini-pythia").string() + " --revision step36 --data " +
                             (kFix / "mini-pile" / "document").string() +
                             " --start 0 --end 64 --batch-size 4 --threads 2 --token-stats --hash-cache none --output ";
  ASSERT_EQ(pythia::testing::run_harness(common + (root / "ref").string()).code, 0);
  const std::string bin = PYTHIA_HARNESS_BIN;
  // 16 blocks at >= 300 ms each: killed after 2 s, mid-scan.
  pythia::testing::run_shell("PYTHIA_MEMORIZE_TEST_BLOCK_DELAY_MS=300 timeout -s KILL 2 " + bin + common +
                             (root / "killed").string() + " >/dev/null 2>&1");
  const fs::path dir = root / "killed" / "mini-pythia" / "step36";
  ASSERT_TRUE(fs::exists(dir / kTokenStatsPartial)) << "the scan had not started";
  ASSERT_FALSE(fs::exists(dir / kTokenStatsFile)) << "killed too late";
  const auto r = pythia::testing::run_harness(common + (root / "killed").string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(pythia::testing::read_bytes(dir / kTokenStatsFile),
            pythia::testing::read_bytes(root / "ref" / "mini-pythia" / "step36" / kTokenStatsFile));
  EXPECT_FALSE(fs::exists(dir / kTokenStatsPartial));
  const auto j = nlohmann::json::parse(pythia::testing::read_bytes(dir / "memorization.json"));
  EXPECT_GT(j["run"]["rows_resumed"].get<int>(), 0);  // the second run really resumed
  EXPECT_EQ(j["files"]["token_stats"], kTokenStatsFile);
  fs::remove_all(root);
}

}  // namespace

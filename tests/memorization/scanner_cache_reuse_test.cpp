// MemorizationScanner keeps its KV caches from one score() call for the next (scanner.h,
// CachePool): a reused cache holds the stale keys/values of an earlier row past its length. These
// tests score rows with one scanner over several calls (caches reused across calls and, for rows
// that need no decoding, within a call) and compare every RowScore bit for bit with a fresh
// scanner per row, on a small random GPT-NeoX in fp32 and in bf16 compute.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "memorization/scanner.h"
#include "model/gpt_neox.h"
#include "model/greedy_decoder.h"

namespace pythia::memorization {
namespace {

using model::GptNeox;
using model::Token;

std::unique_ptr<GptNeox> small_model() {
  model::NeoxConfig c;  // head_dim 32 (8 rotated), 2 layers, 1000 ids
  c.hidden_size = 128;
  c.num_attention_heads = 4;
  c.intermediate_size = 512;
  c.num_hidden_layers = 2;
  c.vocab_size = 1000;
  return GptNeox::random(c, 11);
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Row r: random tokens; every third row's continuation is the model's own greedy tokens for
// `k` positions (a later first mismatch), every fifth row fully greedy (memorized: no decoding).
std::vector<std::vector<Token>> make_rows(const GptNeox& lm, int n) {
  std::mt19937 g(5);
  std::vector<std::vector<Token>> rows;
  for (int r = 0; r < n; ++r) {
    std::vector<Token> x(64);
    for (Token& t : x) t = static_cast<Token>(1 + g() % 999);
    const int greedy = r % 5 == 0 ? 32 : r % 3 == 0 ? 7 : 0;
    for (int t = 32; t < 32 + greedy; ++t) {
      model::KvCache c = lm.make_cache(t);
      std::vector<int> last{t - 1};
      lm.forward(std::span<const Token>(x.data(), static_cast<std::size_t>(t)), c, last,
                 [&](int, std::span<const float> l) {
                   x[static_cast<std::size_t>(t)] = model::greedy_choice(l, 0).token;
                 });
    }
    rows.push_back(x);
  }
  return rows;
}

void check_reuse(const GptNeox& lm, bool exact) {
  const auto rows = make_rows(lm, 12);
  ScanConfig cfg;
  cfg.exact_score = exact;
  cfg.stage_ends = default_stage_ends(cfg.prefix_len, cfg.continuation_len);
  MemorizationScanner shared(lm, cfg);
  std::vector<RowScore> reused(rows.size());
  for (std::size_t b0 = 0; b0 < rows.size(); b0 += 4) {  // 3 calls of 4 rows
    std::vector<Token> flat;
    std::vector<std::uint64_t> idx;
    for (std::size_t i = b0; i < b0 + 4; ++i) {
      flat.insert(flat.end(), rows[i].begin(), rows[i].end());
      idx.push_back(i);
    }
    shared.score(flat, idx, std::span<RowScore>(reused.data() + b0, 4), b0 != 4);
  }
  int memorized = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    MemorizationScanner fresh(lm, cfg);
    std::vector<std::uint64_t> idx{i};
    std::vector<RowScore> one(1);
    fresh.score(rows[i], idx, one, false);
    memorized += one[0].memorized;
    EXPECT_EQ(reused[i].index, one[0].index);
    EXPECT_EQ(reused[i].first_mismatch, one[0].first_mismatch) << "row " << i;
    EXPECT_EQ(reused[i].matches, one[0].matches) << "row " << i;
    EXPECT_EQ(reused[i].memorized, one[0].memorized) << "row " << i;
    EXPECT_TRUE(same_bits(reused[i].min_margin, one[0].min_margin)) << "row " << i;
  }
  EXPECT_GE(memorized, 3);  // rows 0, 5, 10 are the model's own greedy text
}

TEST(ScannerCacheReuse, Fp32ScoresEqualAFreshScannerPerRow) {
  const auto lm = small_model();
  check_reuse(*lm, true);
  check_reuse(*lm, false);
}

TEST(ScannerCacheReuse, Bf16ComputeScoresEqualAFreshScannerPerRow) {
  const auto lm = small_model()->with_compute(model::Compute::kBf16);
  check_reuse(*lm, true);
  check_reuse(*lm, false);
}

}  // namespace
}  // namespace pythia::memorization

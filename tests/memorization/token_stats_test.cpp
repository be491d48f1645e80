// token_stat on scripted logit rows (rank ties, NaN, entropy of uniform / one-hot rows), the
// block journal (resume: torn tail dropped, a missing block is a DataError naming the file) and
// the file's round trip and size checks.
#include "memorization/token_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "data/error.h"
#include "tests/test_util.h"

namespace {

namespace fs = std::filesystem;
using namespace pythia::memorization;

TEST(TokenStat, RankCountsStrictlyGreaterLogits) {
  const std::vector<float> z = {1.0f, 3.0f, 3.0f, 2.0f, 3.0f, -1.0f};
  EXPECT_EQ(token_stat(z, 1).rank, 1);  // tied maximum: every tied id has rank 1
  EXPECT_EQ(token_stat(z, 2).rank, 1);
  EXPECT_EQ(token_stat(z, 4).rank, 1);
  EXPECT_EQ(token_stat(z, 3).rank, 4);  // three logits are larger
  EXPECT_EQ(token_stat(z, 0).rank, 5);
  EXPECT_EQ(token_stat(z, 5).rank, 6);
}

TEST(TokenStat, LogprobAndEntropyAgainstDirectFormulas) {
  std::vector<float> z(50304);
  for (std::size_t j = 0; j < z.size(); ++j) z[j] = static_cast<float>(std::sin(0.37 * static_cast<double>(j)) * 7.0);
  double m = -1e300, s = 0, ez = 0;
  for (float v : z) m = std::max(m, static_cast<double>(v));
  for (float v : z) s += std::exp(v - m);
  for (float v : z) ez += std::exp(v - m) / s * v;
  const double lse = m + std::log(s);
  const TokenStat t = token_stat(z, 1234);
  EXPECT_NEAR(t.logprob, z[1234] - lse, 1e-5);
  EXPECT_NEAR(t.entropy, lse - ez, 1e-5);
  // Uniform row: entropy log(n), logprob -log(n), rank 1.
  const std::vector<float> u(1000, 0.5f);
  EXPECT_NEAR(token_stat(u, 7).entropy, std::log(1000.0), 1e-5);
  EXPECT_NEAR(token_stat(u, 7).logprob, -std::log(1000.0), 1e-5);
  // Nearly one-hot: entropy ~ 0.
  std::vector<float> one(100, -100.0f);
  one[3] = 100.0f;
  EXPECT_NEAR(token_stat(one, 3).entropy, 0.0, 1e-6);
  EXPECT_NEAR(token_stat(one, 3).logprob, 0.0, 1e-6);
}

TEST(TokenStat, NanRowIsFlagged) {
  std::vector<float> z = {1.0f, std::numeric_limits<float>::quiet_NaN(), 2.0f};
  const TokenStat t = token_stat(z, 0);
  EXPECT_EQ(t.rank, -1);
  EXPECT_TRUE(std::isnan(t.logprob));
  EXPECT_TRUE(std::isnan(t.entropy));
}

TEST(TokenStatsJournal, ResumeDropsTornTail) {
  const fs::path d = pythia::testing::fresh_temp_dir("token_stats_journal");
  const fs::path p = d / kTokenStatsPartial;
  std::vector<TokenStat> a(2 * 3), b(1 * 3);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = {-static_cast<float>(i), static_cast<int>(i) + 1, 0.5f};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = {-1.0f, 9, 1.5f};
  {
    TokenStatsJournal j(p, 3);
    j.append(10, a);
    j.append(12, b);
  }
  const auto full = fs::file_size(p);
  fs::resize_file(p, full - 5);  // a kill in the middle of the second block
  TokenStatsJournal j(p, 3);
  const auto back = j.read(10, 2);
  ASSERT_EQ(back.size(), 6u);
  EXPECT_EQ(back[5].rank, 6);
  EXPECT_EQ(back[4].logprob, -4.0f);
  try {
    j.read(12, 1);
    FAIL() << "torn block was kept";
  } catch (const pythia::DataError& e) {
    EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos);
  }
  j.append(12, b);  // re-done after resume
  EXPECT_EQ(j.read(12, 1)[2].entropy, 1.5f);
  j.remove();
  EXPECT_FALSE(fs::exists(p));
  fs::remove_all(d);
}

TEST(TokenStatsFile, RoundTripAndSizeCheck) {
  const fs::path d = pythia::testing::fresh_temp_dir("token_stats_file");
  const fs::path p = d / kTokenStatsFile;
  TokenStatsFileWriter w(p, 32, 2, 5, 7);
  const std::vector<TokenStat> r5 = {{-0.5f, 1, 2.0f}, {-3.0f, 17, 4.0f}}, r6 = {{-1.0f, 2, 1.0f}, {-2.0f, 3, 0.25f}};
  w.add(5, r5);
  w.add(6, r6);
  w.commit();
  const std::string bytes = pythia::testing::read_bytes(p);
  ASSERT_EQ(bytes.substr(0, 8), "PYTOKST1");
  std::uint32_t n = 0;
  std::memcpy(&n, bytes.data() + 8, 4);
  EXPECT_EQ(bytes.size(), 12 + n + 2 * (8 + 2 * 12));  // header, then 2 rows of u64 + 2 x 12 bytes
  const TokenStatsFile f = read_token_stats_file(p);
  EXPECT_EQ(f.indices, (std::vector<std::uint64_t>{5, 6}));
  EXPECT_EQ(f.header["prefix_len"], 32);
  EXPECT_EQ(f.stats[1].rank, 17);
  EXPECT_EQ(f.stats[3].entropy, 0.25f);
  fs::resize_file(p, fs::file_size(p) - 1);
  EXPECT_THROW(read_token_stats_file(p), pythia::DataError);
  std::ofstream(p) << "not a stats file";
  EXPECT_THROW(read_token_stats_file(p), pythia::DataError);
  fs::remove_all(d);
}

}  // namespace

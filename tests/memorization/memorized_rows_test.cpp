// memorization/memorized_rows.h: memorized rows streamed from score CSVs (plain and gzip) and from
// index lists, filled into block bitsets; malformed and out-of-order files refused naming file:line.
#include "memorization/memorized_rows.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "data/error.h"
#include "data/gzip_stream.h"
#include "tests/test_util.h"

namespace pythia::memorization {
namespace {

namespace fs = std::filesystem;

std::vector<std::uint64_t> drain(MemorizedRows& r) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t i = r.next(); i != kEndOfRows; i = r.next()) v.push_back(i);
  return v;
}

fs::path write_plain(const fs::path& dir, const std::string& name, const std::string& text) {
  const fs::path p = dir / name;
  std::ofstream(p) << text;
  return p;
}

TEST(MemorizedRows, CsvKeepsScoreOneOnlyNanNeverRepeatsOnce) {
  const fs::path d = testing::fresh_temp_dir("memorized_rows_csv");
  const fs::path p = write_plain(d, "s.csv", "0,1.0\n1,0.96875\n2,nan\n3,1.0\n3,1.0\n4,0.0\n7,1.0");  // no final \n
  auto r = MemorizedRows::from_scores_csv(p, 1.0);
  EXPECT_EQ(drain(r), (std::vector<std::uint64_t>{0, 3, 7}));
  auto half = MemorizedRows::from_scores_csv(p, 0.5);
  EXPECT_EQ(drain(half), (std::vector<std::uint64_t>{0, 1, 3, 7}));
  fs::remove_all(d);
}

TEST(MemorizedRows, GzipAndExtendedHeaderAndRepeatedIndexMemorizedIfAnyLineIs) {
  const fs::path d = testing::fresh_temp_dir("memorized_rows_gz");
  {
    data::AtomicGzipWriter w(d / "s.csv.gz");
    w.write("index,score,memorized\n5,0.5,0\n5,1.0,1\n9,1.0,1\n");
    w.commit();
  }
  auto r = MemorizedRows::from_scores_csv(d / "s.csv.gz", 1.0);
  EXPECT_EQ(drain(r), (std::vector<std::uint64_t>{5, 9}));
  fs::remove_all(d);
}

TEST(MemorizedRows, DecreasingIndexAndMalformedLinesNameFileAndLine) {
  const fs::path d = testing::fresh_temp_dir("memorized_rows_bad");
  auto r = MemorizedRows::from_scores_csv(write_plain(d, "dec.csv", "4,1.0\n2,1.0\n"), 1.0);
  EXPECT_EQ(r.next(), 4u);
  try {
    r.next();
    FAIL() << "decreasing index accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("dec.csv:2"), std::string::npos) << e.what();
  }
  for (const char* text : {"1;1.0\n", "x,1.0\n", "1,abc\n", "1,\n", "-1,1.0\n"}) {
    auto bad = MemorizedRows::from_scores_csv(write_plain(d, "bad.csv", text), 1.0);
    EXPECT_THROW(bad.next(), DataError) << text;
  }
  EXPECT_THROW(MemorizedRows::from_scores_csv(d / "missing.csv", 1.0), DataError);
  fs::remove_all(d);
}

TEST(MemorizedRows, IndexListEncodesAnyOrderAndLargeGaps) {
  const std::vector<std::int64_t> in = {146431999, 5, 0, 5, 300, 1ll << 40};
  auto r = MemorizedRows::from_indices(in, "x.json");
  EXPECT_EQ(drain(r), (std::vector<std::uint64_t>{0, 5, 300, 146431999, 1ull << 40}));
  EXPECT_LT(r.memory_bytes(), 32u);
  EXPECT_THROW(MemorizedRows::from_indices({3, -1}, "x.json"), DataError);
}

TEST(MemorizedRows, FillSetsBitsPerBlockAndKeepsTheRowPastTheBlock) {
  auto r = MemorizedRows::from_indices({1, 63, 64, 130, 200}, "x");
  std::vector<std::uint64_t> bits(2, 0);
  EXPECT_EQ(r.peek(), 1u);
  EXPECT_EQ(r.fill(0, 128, bits.data()), 3u);
  EXPECT_EQ(bits[0], (1ull << 1) | (1ull << 63));
  EXPECT_EQ(bits[1], 1ull);
  EXPECT_EQ(r.peek(), 130u);
  std::fill(bits.begin(), bits.end(), 0);
  EXPECT_EQ(r.fill(128, 256, bits.data()), 2u);
  EXPECT_EQ(bits[0], 1ull << 2);
  EXPECT_EQ(bits[1], 1ull << (200 - 192));
  EXPECT_EQ(r.next(), kEndOfRows);
}

}  // namespace
}  // namespace pythia::memorization

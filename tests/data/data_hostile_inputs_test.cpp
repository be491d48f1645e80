// Hostile data files (issue #13): a Megatron memmap whose .idx claims sizes and offsets beyond
// its .bin, or more items than the file holds; deeply nested JSON lines. Each must end in a
// DataError that says what is wrong, within a time bound and without a large allocation (peak
// RSS of the test process). The first case was found by fuzz/fuzz_indexed_dataset (row() sized
// its buffer from the .idx before checking the .bin: an 8 GB allocation for a 100-byte file).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "data/error.h"
#include "data/indexed_dataset.h"
#include "data/jsonl_reader.h"

#include "tests/hostile_input_check.h"

namespace fs = std::filesystem;
using pythia::DataError;
using pythia::data::IndexedDataset;

namespace {

// This file's bounds: 10 s, 64 MB unless a case says otherwise.
void expect_bounded_error(const std::function<void()>& fn, const std::string& what, double seconds = 10,
                          long mb = 64) {
  pythia::testing::check_bounded_error(fn, what, seconds, mb);
}

template <typename T>
void put(std::string& b, T v) {
  b.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// An .idx (spec memorization.md §1) with the given sizes, pointers and doc_idx, dtype uint16.
std::string make_idx(const std::vector<std::int32_t>& sizes, const std::vector<std::int64_t>& pointers,
                     const std::vector<std::int64_t>& doc_idx, std::uint64_t claimed_n = 0) {
  std::string b("MMIDIDX\0\0", 9);
  put<std::uint64_t>(b, 1);
  b.push_back(8);
  put<std::uint64_t>(b, claimed_n != 0 ? claimed_n : sizes.size());
  put<std::uint64_t>(b, doc_idx.size());
  for (auto s : sizes) put<std::int32_t>(b, s);
  for (auto p : pointers) put<std::int64_t>(b, p);
  for (auto d : doc_idx) put<std::int64_t>(b, d);
  return b;
}

class HostileMemmap : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hostile_data_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& idx, const std::string& bin) const {
    const std::string prefix = (dir_ / "document").string();
    std::ofstream(prefix + ".idx", std::ios::binary).write(idx.data(), static_cast<std::streamsize>(idx.size()));
    std::ofstream(prefix + ".bin", std::ios::binary).write(bin.data(), static_cast<std::streamsize>(bin.size()));
    return prefix;
  }
  fs::path dir_;
};

// Regression (fuzz_indexed_dataset, out-of-memory): item 0 claims 2^31 - 1 tokens of a 16-byte
// .bin; row() allocated 8 GB before read_tokens looked at the .bin.
TEST_F(HostileMemmap, ItemClaimingTwoBillionTokensOfATinyBin) {
  const IndexedDataset ds(write(make_idx({2147483647, 4}, {0, 8}, {0, 2}), std::string(16, '\1')));
  expect_bounded_error([&] { (void)ds.row(0); }, "lies beyond the end of the data");
  std::vector<std::int32_t> four(4);  // read_tokens checks the whole item too
  expect_bounded_error([&] { ds.read_tokens(0, four); }, "lies beyond the end of the data");
  EXPECT_EQ(ds.row(1), std::vector<std::int32_t>(4, 0x0101));  // the next item is fine
  expect_bounded_error([&] { ds.check_preshuffled(0, 2, 4); }, "not the preshuffled layout");
}

TEST_F(HostileMemmap, ItemPointerBeyondTheBin) {
  const IndexedDataset ds(write(make_idx({4, 4}, {0, std::int64_t{1} << 40}, {0, 2}), std::string(16, '\1')));
  EXPECT_EQ(ds.row(0).size(), 4u);
  expect_bounded_error([&] { (void)ds.row(1); }, "lies beyond the end of the data");
  std::vector<std::int32_t> one(1);
  expect_bounded_error([&] { ds.read_tokens(1, one); }, "lies beyond the end of the data");
}

TEST_F(HostileMemmap, ItemEndingOneTokenPastTheBin) {
  const IndexedDataset ds(write(make_idx({4, 5}, {0, 8}, {0, 2}), std::string(16, '\1')));
  EXPECT_EQ(ds.row(0).size(), 4u);
  expect_bounded_error([&] { (void)ds.row(1); }, "lies beyond the end of the data");
}

TEST_F(HostileMemmap, NegativeSizeAndPointer) {
  const IndexedDataset ds(write(make_idx({-1, 4}, {0, -8}, {0, 2}), std::string(16, '\1')));
  expect_bounded_error([&] { (void)ds.row(0); }, "has a negative size");
  expect_bounded_error([&] { (void)ds.row(1); }, "has a negative byte pointer");
}

TEST_F(HostileMemmap, HeaderClaimingMoreItemsThanTheFileHolds) {
  // N = 2^40 items in a 70-byte .idx; the 34 + 12N + 8D size check refuses it before any table
  // is read. N = 2^62 (12N overflows 64 bits) likewise.
  for (const std::uint64_t n : {std::uint64_t{1} << 40, std::uint64_t{1} << 62}) {
    const std::string prefix = write(make_idx({4, 4}, {0, 8}, {0, 2}, n), std::string(16, '\1'));
    expect_bounded_error([&] { IndexedDataset ds(prefix); }, "does not match the header");
  }
}

TEST_F(HostileMemmap, ShardedBinWithAHoleIsRefused) {
  const std::string prefix = (dir_ / "document").string();
  std::ofstream(prefix + ".idx", std::ios::binary) << make_idx({4, 4}, {0, 8}, {0, 2});
  std::ofstream(prefix + "-00000-of-00001.bin", std::ios::binary) << std::string(8, '\1');
  std::ofstream(prefix + "-00001-of-00001.bin", std::ios::binary) << std::string(9, '\1');
  expect_bounded_error([&] { IndexedDataset ds(prefix); }, "last shard is larger than shard 0");
}

// --- JSON lines ----------------------------------------------------------------------------

TEST(HostileJsonl, LineNestedAMillionLevelsIsParsedWithoutRecursion) {
  const fs::path p = fs::temp_directory_path() / ("hostile_jsonl_" + std::to_string(::getpid()));
  std::ofstream(p, std::ios::binary) << std::string(1'000'000, '[') << std::string(1'000'000, ']')
                                     << "\n{\"text\": 1}\n[[[\n";
  int calls = 0;
  expect_bounded_error(
      [&] {
        pythia::data::for_each_jsonl(p, [&](std::int64_t line, const nlohmann::json& v) {
          ++calls;
          if (line == 1) {
            EXPECT_TRUE(v.is_array());
          }
        });
      },
      ":3: invalid JSON", 20, 512);
  EXPECT_EQ(calls, 2);
  fs::remove(p);
}

}  // namespace

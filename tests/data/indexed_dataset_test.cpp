// IndexedDataset: the MMapIndexedDataset layout of spec memorization.md §1 and the preshuffled
// checks of §2.1, on files written byte by byte here (the spec's §6 example).
#include "data/indexed_dataset.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/error.h"

namespace fs = std::filesystem;
using pythia::DataError;
using pythia::data::IndexedDataset;

namespace {

template <typename T>
void put(std::vector<unsigned char>& b, T v) {
  unsigned char tmp[sizeof(T)];
  std::memcpy(tmp, &v, sizeof(T));
  b.insert(b.end(), tmp, tmp + sizeof(T));
}

std::vector<unsigned char> make_idx(const std::vector<std::int32_t>& sizes, int dtype, int itemsize,
                                    const std::vector<std::int64_t>& doc_idx) {
  std::vector<unsigned char> b = {'M', 'M', 'I', 'D', 'I', 'D', 'X', 0, 0};
  put<std::uint64_t>(b, 1);
  b.push_back(static_cast<unsigned char>(dtype));
  put<std::uint64_t>(b, sizes.size());
  put<std::uint64_t>(b, doc_idx.size());
  for (auto s : sizes) put<std::int32_t>(b, s);
  std::int64_t p = 0;
  for (auto s : sizes) {
    put<std::int64_t>(b, p);
    p += static_cast<std::int64_t>(s) * itemsize;
  }
  for (auto d : doc_idx) put<std::int64_t>(b, d);
  return b;
}

void write(const fs::path& p, const std::vector<unsigned char>& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

class IndexedDatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("idxds_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string prefix() const { return (dir_ / "doc").string(); }
  // The spec §6 example: sizes [3, 0, 5], dtype 8, D = 4, doc_idx [0, 1, 2, 3].
  void write_example() {
    idx_ = make_idx({3, 0, 5}, 8, 2, {0, 1, 2, 3});
    write(dir_ / "doc.idx", idx_);
    std::vector<unsigned char> bin;
    for (std::uint16_t t : {10, 11, 65535, 20, 21, 22, 23, 24}) put<std::uint16_t>(bin, t);
    write(dir_ / "doc.bin", bin);
  }
  fs::path dir_;
  std::vector<unsigned char> idx_;
};

TEST_F(IndexedDatasetTest, SpecExampleLayoutAndTokens) {
  write_example();
  ASSERT_EQ(idx_.size(), 102u);  // 34 + 12*3 + 8*4
  // sizes at 34, pointers at 46, doc_idx at 70 (spec §6).
  std::int32_t s0;
  std::memcpy(&s0, idx_.data() + 34, 4);
  EXPECT_EQ(s0, 3);
  std::int64_t p2, d0, d3;
  std::memcpy(&p2, idx_.data() + 46 + 16, 8);
  std::memcpy(&d0, idx_.data() + 70, 8);
  std::memcpy(&d3, idx_.data() + 70 + 24, 8);
  EXPECT_EQ(p2, 6);
  EXPECT_EQ(d0, 0);
  EXPECT_EQ(d3, 3);

  const IndexedDataset ds(prefix());
  EXPECT_EQ(ds.size(), 3u);
  EXPECT_EQ(ds.doc_count(), 4u);
  EXPECT_EQ(ds.dtype_code(), 8);
  EXPECT_EQ(ds.item_size(2), 5);
  EXPECT_EQ(ds.pointer(2), 6u);
  EXPECT_EQ(ds.row(0), (std::vector<std::int32_t>{10, 11, 65535}));  // uint16, not sign-extended
  EXPECT_TRUE(ds.row(1).empty());
  EXPECT_EQ(ds.row(2), (std::vector<std::int32_t>{20, 21, 22, 23, 24}));
  // Prefix given with a suffix is stripped.
  EXPECT_EQ(IndexedDataset(prefix() + ".bin").size(), 3u);
  EXPECT_EQ(IndexedDataset(prefix() + ".idx").size(), 3u);
  // Reading past the end / more tokens than the item has.
  EXPECT_THROW(ds.row(3), DataError);
  std::vector<std::int32_t> four(4);
  EXPECT_THROW(ds.read_tokens(0, four), DataError);
}

TEST_F(IndexedDatasetTest, Int32Dtype) {
  write(dir_ / "doc.idx", make_idx({2}, 4, 4, {0, 1}));
  std::vector<unsigned char> bin;
  put<std::int32_t>(bin, 70000);
  put<std::int32_t>(bin, 5);
  write(dir_ / "doc.bin", bin);
  EXPECT_EQ(IndexedDataset(prefix()).row(0), (std::vector<std::int32_t>{70000, 5}));
}

void expect_rejected(const std::string& prefix, const std::string& needle) {
  try {
    IndexedDataset ds(prefix);
    ds.row(2);
    FAIL() << "accepted; expected an error containing '" << needle << "'";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("doc."), std::string::npos) << "names the file: " << e.what();
  }
}

TEST_F(IndexedDatasetTest, CorruptionsAreRejected) {
  write_example();
  auto idx = idx_;
  idx[3] = 'X';
  write(dir_ / "doc.idx", idx);
  expect_rejected(prefix(), "magic");

  idx = idx_;
  idx[9] = 2;  // version 2
  write(dir_ / "doc.idx", idx);
  expect_rejected(prefix(), "version");

  for (unsigned char code : {6, 7, 9, 5}) {
    idx = idx_;
    idx[17] = code;
    write(dir_ / "doc.idx", idx);
    expect_rejected(prefix(), "dtype");
  }

  idx = idx_;
  idx.pop_back();  // length
  write(dir_ / "doc.idx", idx);
  expect_rejected(prefix(), "size");
  idx = idx_;
  idx.push_back(0);
  write(dir_ / "doc.idx", idx);
  expect_rejected(prefix(), "size");

  // Legacy TNTIDX magic.
  std::vector<unsigned char> legacy = {'T', 'N', 'T', 'I', 'D', 'X', 0, 0};
  legacy.resize(102, 0);
  write(dir_ / "doc.idx", legacy);
  expect_rejected(prefix(), "TNTIDX");

  // .bin too short for the .idx.
  write(dir_ / "doc.idx", idx_);
  std::vector<unsigned char> bin(14, 0);  // 7 tokens, the index needs 8
  write(dir_ / "doc.bin", bin);
  expect_rejected(prefix(), "does not match");

  // Missing files.
  fs::remove(dir_ / "doc.bin");
  expect_rejected(prefix(), "not found");
  fs::remove(dir_ / "doc.idx");
  expect_rejected(prefix(), "not found");
}

TEST_F(IndexedDatasetTest, PreshuffledLayout) {
  const int R = 3;
  std::vector<std::int32_t> sizes(R, 2049);
  std::vector<std::int64_t> doc(R + 1);
  for (int i = 0; i <= R; ++i) doc[i] = i;
  write(dir_ / "doc.idx", make_idx(sizes, 8, 2, doc));
  std::vector<unsigned char> bin;
  for (int i = 0; i < R * 2049; ++i) put<std::uint16_t>(bin, static_cast<std::uint16_t>(i % 50000));
  write(dir_ / "doc.bin", bin);
  const IndexedDataset ds(prefix());
  EXPECT_NO_THROW(ds.check_preshuffled(0, R));
  EXPECT_EQ(ds.pointer(2), 2u * 4098u);
  EXPECT_EQ(ds.row(1)[0], 2049);
  EXPECT_THROW(ds.check_preshuffled(0, R + 1), DataError);  // range past the end

  // One row of 2048 tokens is rejected.
  sizes[1] = 2048;
  write(dir_ / "doc.idx", make_idx(sizes, 8, 2, doc));
  const IndexedDataset bad(prefix());
  EXPECT_NO_THROW(bad.check_preshuffled(0, 1));
  try {
    bad.check_preshuffled(0, R);
    FAIL() << "2048-token row accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("item 1"), std::string::npos) << e.what();
  }
}

TEST_F(IndexedDatasetTest, ShardedBinIsConcatenation) {
  write_example();
  // Split the 16-byte .bin into shards of 6, 6, 4 bytes: items straddle shard boundaries.
  std::ifstream f(dir_ / "doc.bin", std::ios::binary);
  std::vector<unsigned char> bin((std::istreambuf_iterator<char>(f)), {});
  f.close();
  fs::remove(dir_ / "doc.bin");
  write(dir_ / "doc-00000-of-00002.bin", {bin.begin(), bin.begin() + 6});
  write(dir_ / "doc-00001-of-00002.bin", {bin.begin() + 6, bin.begin() + 12});
  write(dir_ / "doc-00002-of-00002.bin", {bin.begin() + 12, bin.end()});
  const IndexedDataset ds(prefix());
  EXPECT_EQ(ds.bin_paths().size(), 3u);
  EXPECT_EQ(ds.row(2), (std::vector<std::int32_t>{20, 21, 22, 23, 24}));
  EXPECT_EQ(ds.row(0), (std::vector<std::int32_t>{10, 11, 65535}));
  fs::remove(dir_ / "doc-00001-of-00002.bin");
  EXPECT_THROW(IndexedDataset{prefix()}, DataError);
}

}  // namespace

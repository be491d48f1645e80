// FileDigestCache: digests equal coreutils' sha256sum; a second cache object on the same cache
// file re-reads nothing (files_hashed() == 0); a changed file (size or mtime) is re-hashed; a
// corrupt cache file is a warning and the digests are recomputed; malformed entries are dropped.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "data/error.h"
#include "data/file_digest_cache.h"
#include "tests/test_util.h"

namespace {

namespace fs = std::filesystem;
using pythia::data::FileDigestCache;
using pythia::testing::fresh_temp_dir;
using pythia::testing::read_bytes;
using pythia::testing::run_shell;

const fs::path kFixtures = PYTHIA_FIXTURES_DIR;

// The digest coreutils prints for `file`.
std::string sha256sum(const fs::path& file) {
  const auto r = run_shell("sha256sum '" + file.string() + "'");
  EXPECT_EQ(r.code, 0);
  return r.out.substr(0, 64);
}

void write(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

class FileDigestCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = fresh_temp_dir("file_digest_cache_test"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(FileDigestCacheTest, DigestsEqualSha256sum) {
  FileDigestCache cache(dir_ / "cache.json");
  const fs::path weights = kFixtures / "mini-pythia" / "step12" / "model.safetensors";
  EXPECT_EQ(cache.sha256(weights), sha256sum(weights));
  write(dir_ / "empty", "");
  EXPECT_EQ(cache.sha256(dir_ / "empty"), sha256sum(dir_ / "empty"));
  write(dir_ / "abc", "abc");
  EXPECT_EQ(cache.sha256(dir_ / "abc"), sha256sum(dir_ / "abc"));
  EXPECT_EQ(cache.files_hashed(), 3u);
}

TEST_F(FileDigestCacheTest, SecondRunReadsNothing) {
  const fs::path weights = kFixtures / "mini-pythia" / "step1" / "model.safetensors";
  std::string first;
  {
    FileDigestCache cache(dir_ / "cache.json");
    first = cache.sha256(weights);
    EXPECT_EQ(cache.files_hashed(), 1u);
    EXPECT_EQ(cache.sha256(weights), first);  // same object: memory hit
    EXPECT_EQ(cache.files_hashed(), 1u);
  }
  ASSERT_TRUE(fs::exists(dir_ / "cache.json"));
  FileDigestCache again(dir_ / "cache.json");
  EXPECT_EQ(again.sha256(weights), first);
  EXPECT_EQ(again.files_hashed(), 0u);  // taken from the cache file: the weights were not read
  EXPECT_EQ(again.bytes_hashed(), 0u);
  // The same file through another spelling of its path is the same key.
  EXPECT_EQ(again.sha256(weights.parent_path() / "." / "model.safetensors"), first);
  EXPECT_EQ(again.files_hashed(), 0u);
}

TEST_F(FileDigestCacheTest, ChangedFileIsRehashed) {
  const fs::path f = dir_ / "w.bin";
  write(f, "one");
  {
    FileDigestCache cache(dir_ / "cache.json");
    EXPECT_EQ(cache.sha256(f), sha256sum(f));
  }
  write(f, "three");  // other size
  {
    FileDigestCache cache(dir_ / "cache.json");
    EXPECT_EQ(cache.sha256(f), sha256sum(f));
    EXPECT_EQ(cache.files_hashed(), 1u);
  }
  write(f, "four!");  // same size, other content: caught through the mtime
  fs::last_write_time(f, fs::last_write_time(f) + std::chrono::seconds(5));
  FileDigestCache cache(dir_ / "cache.json");
  EXPECT_EQ(cache.sha256(f), sha256sum(f));
  EXPECT_EQ(cache.files_hashed(), 1u);
}

TEST_F(FileDigestCacheTest, CorruptCacheWarnsAndRecomputes) {
  const fs::path f = dir_ / "w.bin";
  write(f, "payload");
  {
    FileDigestCache cache(dir_ / "cache.json");
    cache.sha256(f);
  }
  const std::string good = read_bytes(dir_ / "cache.json");
  write(dir_ / "cache.json", good.substr(0, good.size() / 2));  // torn
  ::testing::internal::CaptureStderr();
  FileDigestCache cache(dir_ / "cache.json");
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("warning: " + (dir_ / "cache.json").string()), std::string::npos) << err;
  EXPECT_NE(err.find("recomputed"), std::string::npos) << err;
  EXPECT_EQ(cache.sha256(f), sha256sum(f));
  EXPECT_EQ(cache.files_hashed(), 1u);
  // ... and the cache file is whole again.
  const auto j = nlohmann::json::parse(read_bytes(dir_ / "cache.json"));
  EXPECT_EQ(j["files"].size(), 1u);
}

TEST_F(FileDigestCacheTest, WrongDigestTextIsNotTrusted) {
  const fs::path f = dir_ / "w.bin";
  write(f, "payload");
  {
    FileDigestCache cache(dir_ / "cache.json");
    cache.sha256(f);
  }
  auto j = nlohmann::json::parse(read_bytes(dir_ / "cache.json"));
  for (auto& [k, e] : j["files"].items()) e["sha256"] = "not-a-digest";
  write(dir_ / "cache.json", j.dump());
  ::testing::internal::CaptureStderr();
  FileDigestCache cache(dir_ / "cache.json");
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("1 malformed hash cache entry"), std::string::npos) << err;
  EXPECT_EQ(cache.sha256(f), sha256sum(f));
  EXPECT_EQ(cache.files_hashed(), 1u);
}

TEST_F(FileDigestCacheTest, NoCacheFileAndErrors) {
  FileDigestCache cache{fs::path()};
  write(dir_ / "x", "x");
  EXPECT_EQ(cache.sha256(dir_ / "x"), sha256sum(dir_ / "x"));
  EXPECT_FALSE(fs::exists(dir_ / "cache.json"));
  try {
    cache.sha256(dir_ / "missing");
    FAIL() << "no error";
  } catch (const pythia::DataError& e) {
    EXPECT_NE(std::string(e.what()).find((dir_ / "missing").string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(cache.sha256(dir_), pythia::DataError);  // a folder is not a file
}

TEST_F(FileDigestCacheTest, UnwritableCacheIsAWarning) {
  write(dir_ / "blocker", "");  // a file where the cache's folder should be
  FileDigestCache cache(dir_ / "blocker" / "cache.json");
  write(dir_ / "x", "x");
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(cache.sha256(dir_ / "x"), sha256sum(dir_ / "x"));
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("hash cache not saved"), std::string::npos) << err;
}

}  // namespace

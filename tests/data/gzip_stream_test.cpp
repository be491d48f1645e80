// data/gzip_stream.h: deterministic gzip writer (equal text -> equal bytes, however it is fed),
// reader of plain and gzip files, clear errors.
#include "data/gzip_stream.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/error.h"
#include "tests/test_util.h"

namespace {
namespace fs = std::filesystem;
using namespace pythia::data;

using pythia::testing::read_bytes;

std::string sample_text() {
  std::string s;
  for (int i = 0; i < 30000; ++i) s += std::to_string(i) + "," + std::to_string(i % 33) + "/32\n";
  return s;  // > 64 KiB: several deflate chunks
}

TEST(GzipStream, RoundTripAndDeterministicBytes) {
  const fs::path dir = pythia::testing::fresh_temp_dir("gzip_stream");
  const std::string text = sample_text();
  {
    AtomicGzipWriter w(dir / "a.csv.gz");
    w.write(text);
    w.commit();
  }
  {
    AtomicGzipWriter w(dir / "b.csv.gz");  // fed line by line
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t nl = text.find('\n', pos);
      w.write(std::string_view(text).substr(pos, nl + 1 - pos));
      pos = nl + 1;
    }
    w.commit();
  }
  EXPECT_TRUE(is_gzip_file(dir / "a.csv.gz"));
  EXPECT_EQ(read_bytes(dir / "a.csv.gz"), read_bytes(dir / "b.csv.gz"));
  EXPECT_EQ(read_whole_file(dir / "a.csv.gz"), text);
  std::ofstream(dir / "plain.txt") << "not compressed\n";
  EXPECT_FALSE(is_gzip_file(dir / "plain.txt"));
  EXPECT_EQ(read_whole_file(dir / "plain.txt"), "not compressed\n");
  fs::remove_all(dir);
}

TEST(GzipStream, UncommittedWriterLeavesNothing) {
  const fs::path dir = pythia::testing::fresh_temp_dir("gzip_abort");
  {
    AtomicGzipWriter w(dir / "x.gz");
    w.write("abc");
  }
  EXPECT_TRUE(fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST(GzipStream, ErrorsNameTheFile) {
  const fs::path dir = pythia::testing::fresh_temp_dir("gzip_err");
  EXPECT_THROW(read_whole_file(dir / "missing.gz"), pythia::DataError);
  std::string gz;
  {
    AtomicGzipWriter w(dir / "t.gz");
    w.write(sample_text());
    w.commit();
    gz = read_bytes(dir / "t.gz");
  }
  // A file cut short (a disk full or a kill during a copy) and one with garbage in the middle.
  std::ofstream(dir / "torn.gz", std::ios::binary) << gz.substr(0, gz.size() / 2);
  std::string mangled = gz;
  for (std::size_t i = 100; i < 164; ++i) mangled[i] = '\x55';
  std::ofstream(dir / "mangled.gz", std::ios::binary) << mangled;
  for (const char* name : {"torn.gz", "mangled.gz"}) {
    try {
      read_whole_file(dir / name);
      FAIL() << name << ": corrupt gzip data read without error";
    } catch (const pythia::DataError& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
  fs::remove_all(dir);
}

}  // namespace

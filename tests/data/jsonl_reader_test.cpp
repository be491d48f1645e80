// data/jsonl_reader: plain and gzip input, line numbers in errors, final line without newline.
#include "data/jsonl_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "data/error.h"

namespace fs = std::filesystem;
using namespace pythia::data;

namespace {

fs::path temp_file(const std::string& name, const std::string& bytes, bool gz) {
  const fs::path p = fs::temp_directory_path() / ("jsonl_reader_test_" + std::to_string(::getpid()) + name);
  if (gz) {
    gzFile f = gzopen(p.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream(p, std::ios::binary) << bytes;
  }
  return p;
}

}  // namespace

TEST(JsonlReader, PlainAndGzipGiveTheSameValues) {
  const std::string text = "{\"a\": 1}\n\n{\"a\": \"x\\ny\"}\n{\"a\": 3}";
  for (bool gz : {false, true}) {
    const auto p = temp_file(gz ? "a.jsonl.gz" : "a.jsonl", text, gz);
    EXPECT_EQ(is_gzip_file(p), gz);
    const auto rows = read_jsonl(p);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0]["a"], 1);
    EXPECT_EQ(rows[1]["a"], "x\ny");
    EXPECT_EQ(rows[2]["a"], 3);
    EXPECT_EQ(read_whole_file(p), text);
    fs::remove(p);
  }
}

TEST(JsonlReader, LongLinesAcrossBufferBoundaries) {
  std::string big(200000, 'q');
  const std::string text = "{\"s\": \"" + big + "\"}\n{\"s\": \"b\"}\n";
  const auto p = temp_file("big.jsonl", text, false);
  const auto rows = read_jsonl(p);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["s"].get<std::string>().size(), big.size());
  fs::remove(p);
}

TEST(JsonlReader, BadLineNamesFileAndLine) {
  const auto p = temp_file("bad.jsonl", "{\"a\": 1}\n{\"a\": \n", false);
  try {
    read_jsonl(p);
    FAIL() << "no error";
  } catch (const pythia::DataError& e) {
    EXPECT_NE(std::string(e.what()).find(p.string() + ":2"), std::string::npos) << e.what();
  }
  fs::remove(p);
}

TEST(JsonlReader, MissingFileIsDataError) {
  EXPECT_THROW(read_jsonl("/nonexistent/x.jsonl"), pythia::DataError);
}

TEST(JsonlReader, ReadLinesKeepsEmptyInnerLines) {
  const auto p = temp_file("l.lst", "1\n\n2\n", true);
  EXPECT_EQ(read_lines(p), (std::vector<std::string>{"1", "", "2"}));
  fs::remove(p);
}

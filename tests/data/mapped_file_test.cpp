// MappedFile: contents, empty files, moves, and errors naming the file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "data/error.h"
#include "data/mapped_file.h"

namespace fs = std::filesystem;
using pythia::DataError;
using pythia::data::MappedFile;

namespace {

class MappedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mapped_file_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(MappedFileTest, MapsContents) {
  const std::string text = std::string("hello\0world", 11);
  std::ofstream(dir_ / "f.bin", std::ios::binary) << text;
  const MappedFile f(dir_ / "f.bin");
  EXPECT_EQ(f.size(), 11u);
  ASSERT_EQ(f.bytes().size(), 11u);
  EXPECT_EQ(std::memcmp(f.bytes().data(), text.data(), 11), 0);
  EXPECT_EQ(f.path(), dir_ / "f.bin");
}

TEST_F(MappedFileTest, EmptyFileIsValid) {
  std::ofstream(dir_ / "empty", std::ios::binary).flush();
  const MappedFile f(dir_ / "empty");
  EXPECT_EQ(f.size(), 0u);
  EXPECT_TRUE(f.bytes().empty());
}

TEST_F(MappedFileTest, MoveKeepsMapping) {
  std::ofstream(dir_ / "f.bin", std::ios::binary) << "abc";
  MappedFile a(dir_ / "f.bin");
  const std::byte* p = a.bytes().data();
  MappedFile b(std::move(a));
  EXPECT_EQ(b.bytes().data(), p);
  EXPECT_EQ(b.size(), 3u);
  std::ofstream(dir_ / "g.bin", std::ios::binary) << "defg";
  MappedFile c(dir_ / "g.bin");
  c = std::move(b);
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(static_cast<char>(c.bytes()[0]), 'a');
}

TEST_F(MappedFileTest, ErrorsNameTheFile) {
  try {
    MappedFile f(dir_ / "missing.bin");
    ADD_FAILURE();
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find((dir_ / "missing.bin").string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("cannot open"), std::string::npos) << msg;
  }
  try {
    MappedFile f(dir_);
    ADD_FAILURE();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
}

}  // namespace

// data/atomic_file.h: the one atomic writer: whole files or nothing, no temporaries left, errors
// name the file.
#include "data/atomic_file.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/error.h"
#include "tests/test_util.h"

namespace {
namespace fs = std::filesystem;
using namespace pythia::data;

using pythia::testing::read_bytes;

std::size_t entries(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.exists();
  return n;
}

TEST(AtomicFile, WritesReplacesAndCreatesFolders) {
  const fs::path dir = pythia::testing::fresh_temp_dir("atomic_file");
  write_file_atomic(dir / "a" / "b" / "x.txt", "first");
  EXPECT_EQ(read_bytes(dir / "a" / "b" / "x.txt"), "first");
  write_file_atomic(dir / "a" / "b" / "x.txt", "second, longer");
  EXPECT_EQ(read_bytes(dir / "a" / "b" / "x.txt"), "second, longer");
  EXPECT_EQ(entries(dir / "a" / "b"), 1u) << "a temporary file was left behind";
  fs::remove_all(dir);
}

TEST(AtomicFile, UncommittedLeavesTargetUntouched) {
  const fs::path dir = pythia::testing::fresh_temp_dir("atomic_file_abort");
  write_file_atomic(dir / "x.txt", "old");
  {
    AtomicFile f(dir / "x.txt");
    f.write("half of the new");
    EXPECT_EQ(entries(dir), 2u);  // the target and the temporary
  }  // destroyed without commit (an exception on the way)
  EXPECT_EQ(read_bytes(dir / "x.txt"), "old");
  EXPECT_EQ(entries(dir), 1u);
  fs::remove_all(dir);
}

TEST(AtomicFile, FailureNamesTheFile) {
  try {
    write_file_atomic("/proc/definitely/not/here.json", "x");
    FAIL() << "no throw";
  } catch (const pythia::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/definitely"), std::string::npos) << e.what();
  }
}

TEST(AtomicFile, TemporaryNames) {
  EXPECT_EQ(atomic_temp_path("/a/b/results.json").parent_path(), fs::path("/a/b"));
  EXPECT_TRUE(is_atomic_temp_name(atomic_temp_path("/a/results.json").filename().string()));
  EXPECT_TRUE(is_atomic_temp_name(".memorization.json.tmp-123"));
  EXPECT_FALSE(is_atomic_temp_name("memorization.json.tmp-123"));
  EXPECT_FALSE(is_atomic_temp_name(".memorization.json.tmp-"));
  EXPECT_FALSE(is_atomic_temp_name(".memorization.json.tmp-12a"));
  EXPECT_FALSE(is_atomic_temp_name("results.json"));
}

// A writer killed with SIGKILL leaves ".<name>.tmp-<pid>"; writing the same target again removes
// it when that pid is no running process, and keeps the temporaries of live writers and of
// other targets.
TEST(AtomicFile, RewriteRemovesTemporariesOfDeadWriters) {
  const fs::path dir = pythia::testing::fresh_temp_dir("atomic_stale");
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);  // a pid that no longer runs
  const auto touch = [&](const std::string& name) { std::ofstream(dir / name) << "torn"; };
  touch(".x.txt.tmp-" + std::to_string(child));
  touch(".x.txt.tmp-1");                              // pid 1 runs
  touch(".y.txt.tmp-" + std::to_string(child));      // another target
  write_file_atomic(dir / "x.txt", "new");
  EXPECT_EQ(read_bytes(dir / "x.txt"), "new");
  EXPECT_FALSE(fs::exists(dir / (".x.txt.tmp-" + std::to_string(child))));
  EXPECT_TRUE(fs::exists(dir / ".x.txt.tmp-1"));
  EXPECT_TRUE(fs::exists(dir / (".y.txt.tmp-" + std::to_string(child))));
  fs::remove_all(dir);
}

}  // namespace

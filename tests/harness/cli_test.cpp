// The executable's top level: help, unknown commands and exit codes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

int run(const std::string& args) {
  const std::string cmd = std::string(PYTHIA_HARNESS_BIN) + " " + args + " >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  return WEXITSTATUS(status);
}

TEST(Cli, HelpExitsZero) { EXPECT_EQ(run("--help"), 0); }
TEST(Cli, NoArgumentsIsUsageError) { EXPECT_EQ(run(""), 2); }
TEST(Cli, UnknownCommandIsUsageError) { EXPECT_EQ(run("frobnicate"), 2); }

}  // namespace

// The executable's top level: help, unknown commands and exit codes.
#include <gtest/gtest.h>

#include <string>

#include "tests/test_util.h"

namespace {

int run(const std::string& args) { return pythia::testing::run_harness(args).code; }

TEST(Cli, HelpExitsZero) { EXPECT_EQ(run("--help"), 0); }
TEST(Cli, NoArgumentsIsUsageError) { EXPECT_EQ(run(""), 2); }
TEST(Cli, UnknownCommandIsUsageError) { EXPECT_EQ(run("frobnicate"), 2); }

}  // namespace

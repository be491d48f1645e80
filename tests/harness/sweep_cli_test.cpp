// `pythia-harness sweep` command line: a broken checkpoint among good ones is reported, the
// others complete, exit status 1; usage errors exit 2.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/test_util.h"

namespace {

namespace fs = std::filesystem;
const fs::path kFixtures = PYTHIA_FIXTURES_DIR;

using pythia::testing::CliRun;
using pythia::testing::run_harness;

TEST(SweepCli, BrokenCheckpointReportedOthersComplete) {
  const fs::path root = fs::temp_directory_path() / ("pythia_sweep_cli_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const fs::path model = root / "model";
  fs::create_directories(model / "step1");
  fs::create_directories(model / "step2");
  for (const char* f : {"config.json", "model.safetensors"}) {
    fs::create_symlink(kFixtures / "mini-pythia" / "step1" / f, model / "step1" / f);
  }
  std::ofstream(model / "step2" / "config.json") << "{\"this is\": \"not a GPT-NeoX config\"}";
  const std::string args = "sweep --model " + model.string() + " --revisions all --memorize --data " +
                           (kFixtures / "mini-pile" / "document").string() +
                           " --sequences-per-step 16 --output " + (root / "out").string();
  CliRun r = run_harness(args);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("failed step2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("config.json"), std::string::npos) << r.out;  // the error names the file
  EXPECT_TRUE(fs::exists(root / "out" / "model" / "step1" / "sweep_complete.json"));
  EXPECT_TRUE(fs::exists(root / "out" / "model" / "step1" / "memorization.json"));
  EXPECT_FALSE(fs::exists(root / "out" / "model" / "step2" / "sweep_complete.json"));
  // Re-run: step1 is skipped, step2 still fails.
  r = run_harness(args);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("step1: already complete"), std::string::npos) << r.out;
  fs::remove_all(root);
}

TEST(SweepCli, UsageErrors) {
  EXPECT_EQ(run_harness("sweep --bogus").code, 2);
  EXPECT_EQ(run_harness("sweep --model " + (kFixtures / "mini-pythia").string() + " --memorize --data x --revisions step5").code, 2);
  EXPECT_EQ(run_harness("sweep --model " + (kFixtures / "mini-pythia").string()).code, 2);  // nothing to do
  const CliRun h = run_harness("sweep --help");
  EXPECT_EQ(h.code, 0);
  for (const char* flag : {"--revisions", "--memorize", "--no-eval", "--tokenizer", "--tasks",
                           "--limit", "--data", "--sequences-per-step", "--output"}) {
    EXPECT_NE(h.out.find(flag), std::string::npos) << flag;
  }
}

// Bad enum values are a bad command line: refused with exit 2 before any checkpoint loads (no
// output folder appears), naming the flag.
TEST(SweepCli, BadEnumFlagsRefusedUpFront) {
  const fs::path root = pythia::testing::fresh_temp_dir("pythia_sweep_enum");
  const std::string base = "sweep --model " + (kFixtures / "mini-pythia").string() + " --output " +
                           (root / "out").string() + " --memorize --data " +
                           (kFixtures / "mini-pile" / "document").string() + " --sequences-per-step 16 ";
  CliRun r = run_harness(base + "--tasks piqa --format bogus");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--format"), std::string::npos) << r.out;
  r = run_harness(base + "--eod-policy bogus");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--eod-policy"), std::string::npos) << r.out;
  r = run_harness(base + "--checksums bogus");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_FALSE(fs::exists(root / "out")) << "a checkpoint was started";
  fs::remove_all(root);
}

// The resume signature is what the jobs compute, not how the flags were written: the same sweep
// with its flags reordered (and another --threads) finds every checkpoint complete.
TEST(SweepCli, ReorderedFlagsResume) {
  const fs::path root = pythia::testing::fresh_temp_dir("pythia_sweep_reorder");
  const std::string model = kFixtures.string() + "/mini-pythia";
  const std::string data = (kFixtures / "mini-pile" / "document").string();
  const std::string out = (root / "out").string();
  CliRun r = run_harness("sweep --model " + model + " --revisions step1,step12 --memorize --data " + data +
                         " --sequences-per-step 16 --output " + out + " --threads 1");
  ASSERT_EQ(r.code, 0) << r.out;
  r = run_harness("sweep --output " + out + " --sequences-per-step=16 --data " + data +
                  " --memorize --revisions step1,step12 --threads 2 --model " + model);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("0 run, 2 already complete"), std::string::npos) << r.out;
  // A setting that changes results does redo them.
  r = run_harness("sweep --model " + model + " --revisions step1 --memorize --data " + data +
                  " --sequences-per-step 16 --output " + out + " --tau 0.5");
  EXPECT_NE(r.code, 0) << "another --tau must not be taken as complete (its folder refuses it)";
  fs::remove_all(root);
}

}  // namespace

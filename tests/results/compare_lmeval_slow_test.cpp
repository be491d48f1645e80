// End to end against lm-evaluation-harness itself: `pythia-harness eval` of the vendored
// pythia-tiny checkpoint on every document of the seven tasks, then `pythia-harness compare` of
// lm-eval's own results file (tests/fixtures/results/lm-eval/pythia-tiny.results.json, copied from
// shared/golden/tasks/pythia-tiny) against ours, with tolerances tightened to the golden README's
// (acc within 1e-6 absolute, no stderr slack; perplexities 1e-4 relative; stderrs 1e-4 relative):
// exit 0 and every value ok.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "tests/test_util.h"

namespace {

namespace fs = std::filesystem;
const fs::path kFixtures = PYTHIA_FIXTURES_DIR;

using pythia::testing::CliRun;
using pythia::testing::run_harness;

TEST(CompareWithLmEval, OurEvalOfPythiaTinyAgreesWithLmEvalResultsFile) {
  const fs::path out = fs::temp_directory_path() / ("pythia_cmp_lmeval_" + std::to_string(::getpid()));
  fs::remove_all(out);
  const CliRun ev = run_harness("eval --model " + (kFixtures / "pythia-tiny").string() + " --tokenizer " +
                        (kFixtures / "tokenizer" / "20B_tokenizer.json.gz").string() +
                        " --tasks lambada_openai,piqa,winogrande,arc_easy,arc_challenge,sciq,wikitext --data-dir " + (kFixtures / "tasks").string() + " --output " +
                        out.string());
  ASSERT_EQ(ev.code, 0) << ev.out;
  const fs::path ours = out / "pythia-tiny" / "main" / "results.json";
  ASSERT_TRUE(fs::exists(ours)) << ev.out;
  const CliRun cmp = run_harness("compare " + (kFixtures / "results" / "lm-eval" / "pythia-tiny.results.json").string() +
                         " " + ours.string() + " --stderr-factor 0 --abs 1e-6 --rel 1e-4 --stderr-rel 1e-4");
  EXPECT_EQ(cmp.code, 0) << cmp.out;
  EXPECT_NE(cmp.out.find("25 values compared: 25 ok"), std::string::npos) << cmp.out;
  fs::remove_all(out);
}

}  // namespace

// Five-shot requests vs lm-eval's own (tests/fixtures/golden/tasks-5shot/requests, made by
// tests/reference/make_goldens.py with lm-eval 4e7e0d4's fewshot_context and sampler, seed 1234):
// on every document of every task with a few-shot pool, the context and continuation strings are
// byte-identical and the token ids (our tokenizer + _encode_pair rules) are identical.
// Data: tests/fixtures/tasks (piqa/winogrande/arc/sciq few-shot pools are SAMPLE training files,
// see tests/fixtures/tasks/README.md; lambada_openai draws from its real test split).
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/eval/request_golden.h"

namespace fs = std::filesystem;
using namespace pythia;

namespace {

class FewshotRequests : public ::testing::TestWithParam<std::string> {};

TEST_P(FewshotRequests, MatchLmEvalFiveShot) {
  const std::string name = GetParam();
  const fs::path gfile = request_golden::kFix / "golden/tasks-5shot/requests" / (name + ".requests.jsonl.gz");
  ASSERT_TRUE(fs::exists(gfile)) << gfile;
  const auto [records, golden] = request_golden::load_requests(name, 5, gfile);
  const auto a = request_golden::compare(name + " 5-shot", records, golden);
  EXPECT_EQ(a.same_text, records.size());
  EXPECT_EQ(a.same_ids, records.size());
}

INSTANTIATE_TEST_SUITE_P(FewshotTasks, FewshotRequests,
                         ::testing::Values("lambada_openai", "piqa", "winogrande", "arc_easy",
                                           "arc_challenge", "sciq"));

}  // namespace

// Five-shot requests vs lm-eval's own (tests/fixtures/golden/tasks-5shot/requests, made by
// tests/reference/make_goldens.py with lm-eval 4e7e0d4's fewshot_context and sampler, seed 1234):
// on every document of every task with a few-shot pool, the context and continuation strings are
// byte-identical and the token ids (our tokenizer + _encode_pair rules) are identical.
// Data: tests/fixtures/tasks (piqa/winogrande/arc/sciq few-shot pools are SAMPLE training files,
// see tests/fixtures/tasks/README.md; lambada_openai draws from its real test split).
#include <gtest/gtest.h>

#include <filesystem>

#include "data/jsonl_reader.h"
#include "eval/evaluator.h"
#include "model/tokenizer.h"
#include "tasks/fewshot.h"
#include "tasks/registry.h"
#include "tests/eval/request_golden_check.h"

namespace fs = std::filesystem;
using namespace pythia;
using namespace pythia::eval;

namespace {

const fs::path kFix = fs::path(PYTHIA_FIXTURES_DIR);

const model::Tokenizer& tokenizer() {
  static const model::Tokenizer tok =
      model::Tokenizer::from_file(kFix / "tokenizer/20B_tokenizer.json.gz");
  return tok;
}

class FewshotRequests : public ::testing::TestWithParam<std::string> {};

TEST_P(FewshotRequests, MatchLmEvalFiveShot) {
  const std::string name = GetParam();
  const fs::path gfile = kFix / "golden/tasks-5shot/requests" / (name + ".requests.jsonl.gz");
  ASSERT_TRUE(fs::exists(gfile)) << gfile;
  auto task = tasks::make_task(name);
  task->load(kFix / "tasks", std::nullopt);
  tasks::apply_fewshot(*task, 5, kFix / "tasks");
  const EncodeFn enc = [](std::string_view s) { return tokenizer().encode(s); };
  const auto records = prepare_requests(*task, enc, 2048, 0);
  const auto golden = data::read_jsonl(gfile);
  const auto a = request_golden::compare(name + " 5-shot", records, golden);
  EXPECT_EQ(a.same_text, records.size());
  EXPECT_EQ(a.same_ids, records.size());
}

INSTANTIATE_TEST_SUITE_P(FewshotTasks, FewshotRequests,
                         ::testing::Values("lambada_openai", "piqa", "winogrande", "arc_easy",
                                           "arc_challenge", "sciq"));

}  // namespace

// Five-shot requests vs lm-eval's own (tests/fixtures/golden/tasks-5shot/requests, made by
// tests/reference/make_goldens.py with lm-eval 4e7e0d4's fewshot_context and sampler, seed 1234):
// on every document of every task with a few-shot pool, the context and continuation strings are
// byte-identical and the token ids (our tokenizer + _encode_pair rules) are identical.
// Data: tests/fixtures/tasks (piqa/winogrande/arc/sciq few-shot pools are SAMPLE training files,
// see tests/fixtures/tasks/README.md; lambada_openai draws from its real test split).
#include "tasks/fewshot.h"
#include "tasks/registry.h"
#include "tests/eval/requests_golden_check.h"

namespace {

using requests_golden::kFix;

class FewshotRequests : public ::testing::TestWithParam<std::string> {};

TEST_P(FewshotRequests, MatchLmEvalFiveShot) {
  const std::string name = GetParam();
  auto task = pythia::tasks::make_task(name);
  task->load(kFix / "tasks", std::nullopt);
  pythia::tasks::apply_fewshot(*task, 5, kFix / "tasks");
  requests_golden::expect_identical_requests(
      *task, kFix / "golden/tasks-5shot/requests" / (name + ".requests.jsonl.gz"), name + " 5-shot");
}

INSTANTIATE_TEST_SUITE_P(FewshotTasks, FewshotRequests,
                         ::testing::Values("lambada_openai", "piqa", "winogrande", "arc_easy",
                                           "arc_challenge", "sciq"));

}  // namespace

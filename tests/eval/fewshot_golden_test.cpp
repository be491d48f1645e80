// Five-shot on a model: the evaluator with --num-fewshot 5 on pythia-tiny vs lm-eval's own
// five-shot run (tests/fixtures/golden/tasks-5shot/pythia-tiny, first 30 documents per task,
// log-likelihoods from tests/reference/gptneox_torch.py in float32): every request's logprob within
// max(1e-4, 1e-6|lp|), is_greedy, per-document acc/acc_norm (near-ties accepted), aggregates and
// the results layout (n-shot 5) — the checks of eval_golden_check.h.
#include "tests/eval/eval_golden_check.h"

namespace {

using eval_golden::Case;

class EvalFewshotGolden : public ::testing::TestWithParam<Case> {};

TEST_P(EvalFewshotGolden, MatchesLmEvalFiveShot) {
  eval_golden::check_case(GetParam(), 30, 5, "golden/tasks-5shot");
}

std::vector<Case> fewshot_cases() {
  std::vector<Case> out;
  for (const char* t : {"lambada_openai", "piqa", "winogrande", "arc_easy", "arc_challenge", "sciq"}) {
    out.push_back({"pythia-tiny", t});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(PythiaTiny, EvalFewshotGolden, ::testing::ValuesIn(fewshot_cases()),
                         eval_golden::case_name);

}  // namespace

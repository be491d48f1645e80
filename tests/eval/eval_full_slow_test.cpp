// Slow: the evaluator vs lm-eval's outputs on EVERY document of all seven tasks, for pythia-tiny,
// neox-variant and (when vendored under tests/fixtures/mini-pythia/step36) the trained
// mini-pythia step 36; checks of eval_golden_check.h (golden README steps 2-5, aggregates against
// lm-eval's results.json). About a minute of CPU per model.
#include "tests/eval/eval_golden_check.h"

namespace {

using eval_golden::Case;

class EvalGoldenFull : public ::testing::TestWithParam<Case> {};

TEST_P(EvalGoldenFull, MatchesLmEval) { eval_golden::check_case(GetParam(), std::nullopt); }

INSTANTIATE_TEST_SUITE_P(
    AllModelsAllTasks, EvalGoldenFull,
    ::testing::ValuesIn(eval_golden::cases({"pythia-tiny", "neox-variant", "mini-pythia/step36"})),
    eval_golden::case_name);

}  // namespace

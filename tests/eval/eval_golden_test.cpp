// Golden-small: the evaluator on pythia-tiny and neox-variant vs lm-eval's outputs on the first
// 150 documents of every task (sciq and wikitext samples: all documents), checks of
// eval_golden_check.h. The full run (every document, three models) is eval_full_slow_test.cpp.
#include "tests/eval/eval_golden_check.h"

namespace {

using eval_golden::Case;

class EvalGoldenSubset : public ::testing::TestWithParam<Case> {};

TEST_P(EvalGoldenSubset, MatchesLmEval) { eval_golden::check_case(GetParam(), 150); }

INSTANTIATE_TEST_SUITE_P(TwoRandomModels, EvalGoldenSubset,
                         ::testing::ValuesIn(eval_golden::cases({"pythia-tiny", "neox-variant"})),
                         eval_golden::case_name);

}  // namespace

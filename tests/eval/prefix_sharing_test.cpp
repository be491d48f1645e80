// Prefix sharing across requests (eval/request_scoring.h): scoring with cached context prefixes
// reused gives bit-identical log-probabilities and greedy flags to scoring every group alone, at
// 1 and 2 threads, on a real GptNeox model (pythia-tiny, fp32 and --compute bf16) with lm-eval's
// five-shot contexts; and it
// feeds fewer positions (so the sharing is really exercised). Agreement with lm-eval itself is
// the golden tests' job (fewshot_golden_test.cpp runs with sharing on, the default).
#include <gtest/gtest.h>

#include <filesystem>

#include "eval/evaluator.h"
#include "eval/request_scoring.h"
#include "harness/threading.h"
#include "model/gpt_neox.h"
#include "model/tokenizer.h"
#include "tasks/fewshot.h"
#include "tasks/registry.h"

namespace {

namespace fs = std::filesystem;
using namespace pythia;

const fs::path kFix = fs::path(PYTHIA_FIXTURES_DIR);

struct Scored {
  std::uint64_t positions = 0;
  std::vector<eval::RequestRecord> records;
};

Scored score_task(const tasks::Task& task, const model::GptNeox& lm, const model::Tokenizer& tok,
                  bool share, int threads) {
  harness::ThreadSetup setup(threads);
  eval::EvalSettings s;
  s.bootstrap_iters = 0;
  s.share_prefixes = share;
  const eval::EncodeFn enc = [&](std::string_view t) { return tok.encode(t); };
  auto ev = eval::evaluate_task(task, lm, enc, s);
  return {ev.positions, std::move(ev.records)};
}

class PrefixSharing : public ::testing::TestWithParam<const char*> {};

TEST_P(PrefixSharing, BitIdenticalToScoringEveryGroupAlone) {
  const auto fp32 = model::load_gpt_neox(kFix / "pythia-tiny");
  const auto bf16 = fp32->with_compute(model::Compute::kBf16);
  const auto tok = model::Tokenizer::from_file(kFix / "tokenizer/20B_tokenizer.json.gz");
  auto task = tasks::make_task(GetParam());
  task->load(kFix / "tasks", 24);
  tasks::apply_fewshot(*task, 5, kFix / "tasks");

  for (const model::GptNeox* lm : {fp32.get(), bf16.get()}) {
    ASSERT_TRUE(lm->forward_is_split_invariant());
    SCOPED_TRACE(model::compute_name(lm->compute()));
    const Scored alone = score_task(*task, *lm, tok, false, 1);
    for (const int threads : {1, 2}) {
      const Scored shared = score_task(*task, *lm, tok, true, threads);
      EXPECT_LT(shared.positions, alone.positions) << "nothing was reused";
      ASSERT_EQ(shared.records.size(), alone.records.size());
      for (std::size_t i = 0; i < alone.records.size(); ++i) {
        const auto& a = alone.records[i].scored;
        const auto& b = shared.records[i].scored;
        ASSERT_EQ(a.tokens.context_ids, b.tokens.context_ids) << i;
        // Bit-identical, not within a tolerance: split invariance of the forward pass.
        EXPECT_EQ(a.answer.logprob, b.answer.logprob) << GetParam() << " request " << i;
        EXPECT_EQ(a.answer.is_greedy, b.answer.is_greedy) << GetParam() << " request " << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(FiveShot, PrefixSharing,
                         ::testing::Values("winogrande", "arc_easy", "piqa", "lambada_openai"));

}  // namespace

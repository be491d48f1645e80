// Golden step 1 (token ids): every request of every task encoded by our tokenizer and lm-eval's
// _encode_pair rules gives lm-eval's context_ids / continuation_ids (and, for wikitext, token_ids
// and the rolling windows), in the same order. Tokenizer: tests/fixtures/tokenizer; data:
// tests/fixtures/tasks; golden: tests/fixtures/golden/tasks/pythia-tiny (the ids do not depend on
// the model).
#include <gtest/gtest.h>

#include "tests/eval/request_golden.h"

using namespace pythia;
using namespace pythia::eval;
using request_golden::ints;
using request_golden::tokenizer;

namespace {

class RequestIds : public ::testing::TestWithParam<std::string> {};

TEST_P(RequestIds, MatchLmEval) {
  const std::string name = GetParam();
  const auto [records, golden] = request_golden::load_requests(
      name, 0, request_golden::kFix / "golden/tasks/pythia-tiny" / (name + ".requests.jsonl.gz"));
  ASSERT_EQ(records.size(), golden.size());
  std::size_t same = 0, shown = 0, windows = 0, separate_same = 0, loglik = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& rec = records[i];
    const auto& g = golden[i];
    bool ok = g["doc_id"].get<std::int64_t>() == rec.request.doc_id && g["idx"].get<int>() == rec.request.idx;
    if (rec.request.type == tasks::RequestType::kLoglikelihood) {
      ok = ok && g["context_ids"].get<std::vector<int>>() == ints(rec.scored.tokens.context_ids) &&
           g["continuation_ids"].get<std::vector<int>>() == ints(rec.scored.tokens.continuation_ids) &&
           g["truncated_left"].get<int>() == rec.scored.tokens.truncated_left;
      // v0.3 / hf-causal encoded the continuation separately (spec §1.4): same ids here?
      ++loglik;
      separate_same += tokenizer().encode(rec.request.continuation) == rec.scored.tokens.continuation_ids;
    } else {
      ok = ok && g["token_ids"].get<std::vector<int>>() == ints(rec.token_ids);
      ok = ok && g["windows"].size() == rec.windows.size();
      for (std::size_t w = 0; ok && w < rec.windows.size(); ++w, ++windows) {
        const auto& gw = g["windows"][w];
        const auto& t = rec.windows[w].tokens;
        ok = gw["context_ids"].get<std::vector<int>>() == ints(t.context_ids) &&
             gw["continuation_ids"].get<std::vector<int>>() == ints(t.continuation_ids);
      }
    }
    if (ok) {
      ++same;
    } else if (shown++ < 3) {
      ADD_FAILURE() << name << ": request " << i << " (doc " << rec.request.doc_id << ", idx "
                    << rec.request.idx << ") ids differ from lm-eval";
    }
  }
  std::printf("%s: %zu / %zu requests with identical token ids%s\n", name.c_str(), same,
              records.size(), windows ? (" (" + std::to_string(windows) + " rolling windows)").c_str() : "");
  EXPECT_EQ(same, records.size());
  if (loglik > 0) {
    std::printf("%s: v0.3 separate encoding of the continuation gives the same ids for %zu / %zu\n",
                name.c_str(), separate_same, loglik);
    EXPECT_EQ(separate_same, loglik);  // golden README: checked on these data
  }
}

// The tasks with zero-shot goldens in golden/tasks (wsc / logiqa: tests/eval/wsc_logiqa_golden_test.cpp).
INSTANTIATE_TEST_SUITE_P(AllTasks, RequestIds,
                         ::testing::Values("lambada_openai", "piqa", "winogrande", "arc_easy",
                                           "arc_challenge", "sciq", "wikitext"));

}  // namespace

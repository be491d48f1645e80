// Golden step 1 (token ids): every request of every task encoded by our tokenizer and lm-eval's
// _encode_pair rules gives lm-eval's context_ids / continuation_ids (and, for wikitext, token_ids
// and the rolling windows), in the same order. Tokenizer: tests/fixtures/tokenizer; data:
// tests/fixtures/tasks; golden: tests/fixtures/golden/tasks/pythia-tiny (the ids do not depend on
// the model).
#include <gtest/gtest.h>

#include <filesystem>

#include "data/jsonl_reader.h"
#include "eval/evaluator.h"
#include "model/tokenizer.h"
#include "tasks/registry.h"

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

class RequestIds : public ::testing::TestWithParam<std::string> {};

TEST_P(RequestIds, MatchLmEval) {
  const std::string name = GetParam();
  auto task = tasks::make_task(name);
  task->load(kFix / "tasks", std::nullopt);
  const EncodeFn enc = [](std::string_view s) { return tokenizer().encode(s); };
  const auto records = prepare_requests(*task, enc, 2048, 0);
  const auto golden =
      data::read_jsonl(kFix / "golden/tasks/pythia-tiny" / (name + ".requests.jsonl.gz"));
  ASSERT_EQ(records.size(), golden.size());
  std::size_t same = 0, shown = 0, windows = 0, separate_same = 0, loglik = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& rec = records[i];
    const auto& g = golden[i];
    bool ok = g["doc_id"].get<std::int64_t>() == rec.request.doc_id && g["idx"].get<int>() == rec.request.idx;
    if (rec.request.type == tasks::RequestType::kLoglikelihood) {
      ok = ok && g["context_ids"].get<std::vector<int>>() == std::vector<int>(rec.scored.tokens.context_ids.begin(), rec.scored.tokens.context_ids.end()) &&
           g["continuation_ids"].get<std::vector<int>>() == std::vector<int>(rec.scored.tokens.continuation_ids.begin(), rec.scored.tokens.continuation_ids.end()) &&
           g["truncated_left"].get<int>() == rec.scored.tokens.truncated_left;
      // v0.3 / hf-causal encoded the continuation separately (spec §1.4): same ids here?
      ++loglik;
      separate_same += tokenizer().encode(rec.request.continuation) == rec.scored.tokens.continuation_ids;
    } else {
      ok = ok && g["token_ids"].get<std::vector<int>>() == std::vector<int>(rec.token_ids.begin(), rec.token_ids.end());
      ok = ok && g["windows"].size() == rec.windows.size();
      for (std::size_t w = 0; ok && w < rec.windows.size(); ++w, ++windows) {
        const auto& gw = g["windows"][w];
        const auto& t = rec.windows[w].tokens;
        ok = gw["context_ids"].get<std::vector<int>>() == std::vector<int>(t.context_ids.begin(), t.context_ids.end()) &&
             gw["continuation_ids"].get<std::vector<int>>() == std::vector<int>(t.continuation_ids.begin(), t.continuation_ids.end());
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

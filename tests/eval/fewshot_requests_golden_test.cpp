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
using request_golden::ints;

namespace {

class FewshotRequests : public ::testing::TestWithParam<std::string> {};

TEST_P(FewshotRequests, MatchLmEvalFiveShot) {
  const std::string name = GetParam();
  const fs::path gfile = request_golden::kFix / "golden/tasks-5shot/requests" / (name + ".requests.jsonl.gz");
  ASSERT_TRUE(fs::exists(gfile)) << gfile;
  const auto [records, golden] = request_golden::load_requests(name, 5, gfile);
  ASSERT_EQ(records.size(), golden.size());
  std::size_t same_text = 0, same_ids = 0, shown = 0, truncated = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& rec = records[i];
    const auto& g = golden[i];
    ASSERT_EQ(g["doc_id"].get<std::int64_t>(), rec.request.doc_id) << i;
    ASSERT_EQ(g["idx"].get<int>(), rec.request.idx) << i;
    const bool text = g["context"].get<std::string>() == rec.request.context &&
                      g["continuation"].get<std::string>() == rec.request.continuation;
    const bool ids = g["context_ids"].get<std::vector<int>>() == ints(rec.scored.tokens.context_ids) &&
                     g["continuation_ids"].get<std::vector<int>>() == ints(rec.scored.tokens.continuation_ids) &&
                     g["truncated_left"].get<int>() == rec.scored.tokens.truncated_left;
    same_text += text;
    same_ids += ids;
    truncated += rec.scored.tokens.truncated_left > 0;
    if ((!text || !ids) && shown++ < 2) {
      ADD_FAILURE() << name << " request " << i << " (doc " << rec.request.doc_id << ", idx "
                    << rec.request.idx << ") " << (text ? "ids" : "strings") << " differ; got context\n"
                    << rec.request.context << "\nwant\n" << g["context"].get<std::string>();
    }
  }
  std::printf("%s 5-shot: %zu / %zu requests with identical strings, %zu identical ids "
              "(%zu left-truncated)\n",
              name.c_str(), same_text, records.size(), same_ids, truncated);
  EXPECT_EQ(same_text, records.size());
  EXPECT_EQ(same_ids, records.size());
}

INSTANTIATE_TEST_SUITE_P(FewshotTasks, FewshotRequests,
                         ::testing::Values("lambada_openai", "piqa", "winogrande", "arc_easy",
                                           "arc_challenge", "sciq"));

}  // namespace

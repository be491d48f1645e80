// Shared check of a loaded (and few-shot-prefixed) task's requests vs an lm-eval requests golden
// (`<task>.requests.jsonl.gz`, made by tests/reference/make_goldens.py or
// make_wsc_logiqa_goldens.py): same count and order (doc_id, idx), byte-identical context and
// continuation strings, identical token ids (our tokenizer + _encode_pair rules, left truncation
// to 2048) and truncated_left. Reports the counts; the first two differences are test failures.
// Used by fewshot_requests_golden_test.cpp and wsc_logiqa_golden_test.cpp.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>

#include "data/jsonl_reader.h"
#include "eval/evaluator.h"
#include "model/tokenizer.h"
#include "tasks/task.h"

namespace requests_golden {

inline const std::filesystem::path kFix = std::filesystem::path(PYTHIA_FIXTURES_DIR);

inline const pythia::model::Tokenizer& tokenizer() {
  static const pythia::model::Tokenizer tok =
      pythia::model::Tokenizer::from_file(kFix / "tokenizer/20B_tokenizer.json.gz");
  return tok;
}

inline void expect_identical_requests(const pythia::tasks::Task& task, const std::filesystem::path& gfile,
                                      const std::string& label) {
  using namespace pythia;
  auto ints = [](const auto& v) { return std::vector<int>(v.begin(), v.end()); };
  ASSERT_TRUE(std::filesystem::exists(gfile)) << gfile;
  const eval::EncodeFn enc = [](std::string_view s) { return tokenizer().encode(s); };
  const auto records = eval::prepare_requests(task, enc, 2048, 0);
  const auto golden = data::read_jsonl(gfile);
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
      ADD_FAILURE() << label << " request " << i << " (doc " << rec.request.doc_id << ", idx "
                    << rec.request.idx << ") " << (text ? "ids" : "strings") << " differ; got context\n"
                    << rec.request.context << "\nwant\n" << g["context"].get<std::string>();
    }
  }
  std::printf("%s: %zu / %zu requests with identical strings, %zu identical ids (%zu left-truncated)\n",
              label.c_str(), same_text, records.size(), same_ids, truncated);
  EXPECT_EQ(same_text, records.size());
  EXPECT_EQ(same_ids, records.size());
}

}  // namespace requests_golden

// Shared check of encoded requests vs lm-eval's own (a golden `<task>.requests.jsonl.gz`): the
// context / continuation strings byte for byte and the token ids (context_ids, continuation_ids,
// truncated_left) request by request, in lm-eval order (doc_id, idx). Used by
// fewshot_requests_golden_test.cpp and mmlu_golden_test.cpp.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/evaluator.h"

namespace request_golden {

struct Agreement {
  std::size_t same_text = 0, same_ids = 0, truncated = 0;
};

// Compares and reports (ADD_FAILURE for the first two differences, a summary line `label`);
// the caller asserts on the counts.
inline Agreement compare(const std::string& label, const std::vector<pythia::eval::RequestRecord>& records,
                         const std::vector<nlohmann::json>& golden) {
  Agreement a;
  EXPECT_EQ(records.size(), golden.size()) << label;
  if (records.size() != golden.size()) return a;
  auto ints = [](const auto& v) { return std::vector<int>(v.begin(), v.end()); };
  std::size_t shown = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& rec = records[i];
    const auto& g = golden[i];
    EXPECT_EQ(g["doc_id"].get<std::int64_t>(), rec.request.doc_id) << label << " " << i;
    EXPECT_EQ(g["idx"].get<int>(), rec.request.idx) << label << " " << i;
    const bool text = g["context"].get<std::string>() == rec.request.context &&
                      g["continuation"].get<std::string>() == rec.request.continuation;
    const bool ids = g["context_ids"].get<std::vector<int>>() == ints(rec.scored.tokens.context_ids) &&
                     g["continuation_ids"].get<std::vector<int>>() == ints(rec.scored.tokens.continuation_ids) &&
                     g["truncated_left"].get<int>() == rec.scored.tokens.truncated_left;
    a.same_text += text;
    a.same_ids += ids;
    a.truncated += rec.scored.tokens.truncated_left > 0;
    if ((!text || !ids) && shown++ < 2) {
      ADD_FAILURE() << label << " request " << i << " (doc " << rec.request.doc_id << ", idx "
                    << rec.request.idx << ") " << (text ? "ids" : "strings") << " differ; got context\n"
                    << rec.request.context << "\nwant\n" << g["context"].get<std::string>();
    }
  }
  std::printf("%s: %zu / %zu requests with identical strings, %zu identical ids (%zu left-truncated)\n",
              label.c_str(), a.same_text, records.size(), a.same_ids, a.truncated);
  return a;
}

}  // namespace request_golden

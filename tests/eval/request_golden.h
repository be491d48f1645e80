// Shared setup of the request-ids golden tests (eval_requests_golden_test.cpp: zero-shot,
// fewshot_requests_golden_test.cpp: five-shot): the vendored GPT-NeoX-20B tokenizer, a task loaded
// from tests/fixtures/tasks (few-shot contexts applied when num_fewshot > 0), its requests
// prepared as the evaluator prepares them (2048-token window), and lm-eval's golden requests file;
// and `compare`, the request-vs-lm-eval check (strings byte for byte, context/continuation ids,
// truncation, in lm-eval order) and `expect_identical_requests` (a loaded task against its
// golden file), used by the few-shot, MMLU and wsc/logiqa request tests. Header-only; what
// each test asserts stays in the test.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "data/jsonl_reader.h"
#include "eval/evaluator.h"
#include "model/tokenizer.h"
#include "tasks/fewshot.h"
#include "tasks/registry.h"

namespace request_golden {

inline const std::filesystem::path kFix = std::filesystem::path(PYTHIA_FIXTURES_DIR);

inline const pythia::model::Tokenizer& tokenizer() {
  static const pythia::model::Tokenizer tok =
      pythia::model::Tokenizer::from_file(kFix / "tokenizer/20B_tokenizer.json.gz");
  return tok;
}

inline std::vector<int> ints(const std::vector<pythia::eval::Token>& v) { return {v.begin(), v.end()}; }

// Our requests of task `name` and lm-eval's (`golden_file`, one JSON object per request).
struct Requests {
  std::vector<pythia::eval::RequestRecord> ours;
  std::vector<nlohmann::json> golden;
};

inline Requests load_requests(const std::string& name, int num_fewshot, const std::filesystem::path& golden_file) {
  auto task = pythia::tasks::make_task(name);
  task->load(kFix / "tasks", std::nullopt);
  pythia::tasks::apply_fewshot(*task, num_fewshot, kFix / "tasks");  // k = 0: description only
  const pythia::eval::EncodeFn enc = [](std::string_view s) { return tokenizer().encode(s); };
  return {pythia::eval::prepare_requests(*task, enc, 2048, 0), pythia::data::read_jsonl(golden_file)};
}

// Compares and reports (ADD_FAILURE for the first two differences, a summary line `label`);
// the caller asserts on the counts.
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

// A loaded (and few-shot-prefixed) task's requests vs lm-eval's requests golden `gfile`: every
// request's strings and ids identical (the counts asserted here).
inline void expect_identical_requests(const pythia::tasks::Task& task, const std::filesystem::path& gfile,
                                      const std::string& label) {
  ASSERT_TRUE(std::filesystem::exists(gfile)) << gfile;
  const pythia::eval::EncodeFn enc = [](std::string_view s) { return tokenizer().encode(s); };
  const auto records = pythia::eval::prepare_requests(task, enc, 2048, 0);
  const auto a = compare(label, records, pythia::data::read_jsonl(gfile));
  EXPECT_EQ(a.same_text, records.size()) << label;
  EXPECT_EQ(a.same_ids, records.size()) << label;
}

}  // namespace request_golden

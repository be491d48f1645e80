// Shared setup of the request-ids golden tests (eval_requests_golden_test.cpp: zero-shot,
// fewshot_requests_golden_test.cpp: five-shot): the vendored GPT-NeoX-20B tokenizer, a task loaded
// from tests/fixtures/tasks (few-shot contexts applied when num_fewshot > 0), its requests
// prepared as the evaluator prepares them (2048-token window), and lm-eval's golden requests file.
// Header-only; what each test asserts stays in the test.
#pragma once

#include <gtest/gtest.h>

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
  if (num_fewshot > 0) pythia::tasks::apply_fewshot(*task, num_fewshot, kFix / "tasks");
  const pythia::eval::EncodeFn enc = [](std::string_view s) { return tokenizer().encode(s); };
  return {pythia::eval::prepare_requests(*task, enc, 2048, 0), pythia::data::read_jsonl(golden_file)};
}

}  // namespace request_golden

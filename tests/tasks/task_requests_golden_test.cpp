// Request strings of every task vs lm-eval's own (golden README "What a C++ test should assert"
// step 1, string part; token ids are checked in eval_golden_test.cpp): identical context and
// continuation bytes, request count and order per document, gold index and choices, the
// wikitext detokenized text and word/byte counts. Data: tests/fixtures/tasks (original file
// names; sciq/wikitext are the project's SAMPLE files). Golden: tests/fixtures/golden/tasks.
#include <gtest/gtest.h>

#include <filesystem>

#include "data/jsonl_reader.h"
#include "tasks/registry.h"

namespace fs = std::filesystem;
using namespace pythia::tasks;

namespace {

const fs::path kData = fs::path(PYTHIA_FIXTURES_DIR) / "tasks";
const fs::path kGolden = fs::path(PYTHIA_FIXTURES_DIR) / "golden/tasks/pythia-tiny";

class TaskRequests : public ::testing::TestWithParam<std::string> {};

TEST_P(TaskRequests, MatchLmEvalStrings) {
  const std::string name = GetParam();
  auto task = make_task(name);
  task->load(kData, std::nullopt);
  const auto golden = pythia::data::read_jsonl(kGolden / (name + ".requests.jsonl.gz"));
  const auto docs = pythia::data::read_jsonl(kGolden / (name + ".docs.jsonl.gz"));
  ASSERT_EQ(task->size(), static_cast<std::int64_t>(docs.size()));
  EXPECT_EQ(task->n_original(), task->size());

  std::size_t g = 0, mismatches = 0;
  for (std::int64_t d = 0; d < task->size(); ++d) {
    for (const auto& r : task->requests(d)) {
      ASSERT_LT(g, golden.size()) << "more requests than lm-eval at doc " << d;
      const auto& want = golden[g++];
      ASSERT_EQ(want["doc_id"].get<std::int64_t>(), d);
      ASSERT_EQ(want["idx"].get<int>(), r.idx) << "doc " << d;
      if (r.type == RequestType::kLoglikelihoodRolling) {
        if (want["text"].get<std::string>() != r.continuation && mismatches++ < 3) {
          ADD_FAILURE() << name << " doc " << d << ": detokenized text differs";
        }
      } else {
        if ((want["context"].get<std::string>() != r.context ||
             want["continuation"].get<std::string>() != r.continuation) &&
            mismatches++ < 3) {
          ADD_FAILURE() << name << " doc " << d << " idx " << r.idx << ": got ("
                        << r.context << " | " << r.continuation << ") want ("
                        << want["context"].get<std::string>() << " | "
                        << want["continuation"].get<std::string>() << ")";
        }
      }
    }
  }
  EXPECT_EQ(g, golden.size()) << "request count";
  EXPECT_EQ(mismatches, 0u);

  // Per-document metadata: gold/choices (multiple choice), target, wikitext counts.
  for (std::int64_t d = 0; d < task->size(); ++d) {
    const auto& want = docs[static_cast<std::size_t>(d)];
    std::vector<RequestAnswer> dummy(task->requests(d).size());
    const DocResult res = task->process(d, dummy);
    if (want.contains("gold")) {
      ASSERT_EQ(res.log.at("gold"), want["gold"]) << name << " doc " << d;
      ASSERT_EQ(res.log.at("choices"), want["choices"]) << name << " doc " << d;
    }
    ASSERT_EQ(res.log.at("target"), want["target"]) << name << " doc " << d;
    if (name == "wikitext") {
      EXPECT_EQ(res.items[0].weight, want["word_perplexity"][1].get<double>()) << "words, doc " << d;
      EXPECT_EQ(res.items[1].weight, want["byte_perplexity"][1].get<double>()) << "bytes, doc " << d;
    }
  }
  std::printf("%s: %zu requests, %lld docs identical to lm-eval\n", name.c_str(), g,
              static_cast<long long>(task->size()));
}

// The tasks with transformers-made zero-shot goldens in golden/tasks (wsc and logiqa: their own
// goldens, tests/tasks/wsc_logiqa_golden_test.cpp).
INSTANTIATE_TEST_SUITE_P(AllTasks, TaskRequests,
                         ::testing::Values("lambada_openai", "piqa", "winogrande", "arc_easy",
                                           "arc_challenge", "sciq", "wikitext"));

}  // namespace

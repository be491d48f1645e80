// The worked examples of spec tasks.md §2 (prompt strings, choices, gold, acc_norm lengths) on the
// vendored original data files, and the per-document metric rules of §1.6 (first-index argmax,
// code-point acc_norm lengths).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "data/error.h"

#include "tasks/multiple_choice_task.h"
#include "tasks/python_text.h"
#include "tasks/registry.h"

namespace fs = std::filesystem;
using namespace pythia::tasks;

namespace {

const fs::path kData = fs::path(PYTHIA_FIXTURES_DIR) / "tasks";

std::unique_ptr<Task> loaded(const std::string& name) {
  auto t = make_task(name);
  t->load(kData, std::nullopt);
  return t;
}

std::vector<std::size_t> lengths(const nlohmann::json& choices) {
  std::vector<std::size_t> out;
  for (const auto& c : choices) out.push_back(code_point_length(c.get<std::string>()));
  return out;
}

}  // namespace

TEST(Lambada, SplitsAtLastSpaceOnly) {
  EXPECT_EQ(lambada_split("a b c"), (std::pair<std::string, std::string>{"a b", " c"}));
  EXPECT_EQ(lambada_split("a  b"), (std::pair<std::string, std::string>{"a ", " b"}));
  EXPECT_EQ(lambada_split("x of\n\nPower"), (std::pair<std::string, std::string>{"x", " of\n\nPower"}));
  EXPECT_EQ(lambada_split("alone"), (std::pair<std::string, std::string>{"", " alone"}));
}

TEST(Lambada, Doc0AndCounts) {
  auto t = loaded("lambada_openai");
  EXPECT_EQ(t->size(), 5153);
  const auto r = t->requests(0);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].continuation, " signs");
  EXPECT_EQ(r[0].context.substr(0, 20), "In my palm is a clea");
  EXPECT_EQ(r[0].context.substr(r[0].context.size() - 16), "don't care about");
  const auto res = t->process(0, {RequestAnswer{-2.5, true}});
  EXPECT_EQ(res.items[0].value, -2.5);  // perplexity item = the logprob
  EXPECT_EQ(res.items[1].value, 1.0);   // acc = is_greedy
}

TEST(Piqa, Doc0) {
  auto t = loaded("piqa");
  EXPECT_EQ(t->size(), 1838);
  const auto r = t->requests(0);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].context, "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:");
  EXPECT_EQ(r[0].continuation.substr(0, 28), " Provide the guinea pig with");
  const auto res = t->process(0, {RequestAnswer{-1.0, false}, RequestAnswer{-2.0, false}});
  EXPECT_EQ(res.log["gold"], 0);
  EXPECT_EQ(lengths(res.log["choices"]), (std::vector<std::size_t>{164, 166}));
  EXPECT_EQ(res.items[0].value, 1.0);
}

TEST(Winogrande, Doc0ScoresTheSuffix) {
  auto t = loaded("winogrande");
  EXPECT_EQ(t->size(), 1267);
  const auto r = t->requests(0);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].context, "Sarah was a much better surgeon than Maria so Sarah");
  EXPECT_EQ(r[1].context, "Sarah was a much better surgeon than Maria so Maria");
  EXPECT_EQ(r[0].continuation, " always got the easier cases.");
  EXPECT_EQ(r[1].continuation, " always got the easier cases.");
  const auto res = t->process(0, {RequestAnswer{-3.0, false}, RequestAnswer{-2.0, false}});
  EXPECT_EQ(res.log["gold"], 1);
  EXPECT_EQ(res.items.size(), 1u);  // acc only
  EXPECT_EQ(res.items[0].value, 1.0);
}

TEST(Arc, WorkedExamplesAndDigitLabels) {
  auto e = loaded("arc_easy");
  EXPECT_EQ(e->size(), 2376);
  auto r = e->requests(0);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].context, "Question: Which statement best explains why photosynthesis is the foundation of most food webs?\nAnswer:");
  EXPECT_EQ(r[3].continuation, " The producers in all ecosystems are plants.");
  auto res = e->process(0, std::vector<RequestAnswer>(4));
  EXPECT_EQ(lengths(res.log["choices"]), (std::vector<std::size_t>{59, 54, 50, 43}));
  EXPECT_EQ(res.log["gold"], 0);
  EXPECT_EQ(res.items[0].value, 1.0);  // all equal -> first index -> gold 0
  // NYSEDREGENTS_2015_8_28 (line 15 = doc 14): labels 1-4, answerKey "2" -> gold 1.
  r = e->requests(14);
  EXPECT_EQ(r[0].context, "Question: All living and nonliving material is composed of\nAnswer:");
  EXPECT_EQ(e->process(14, std::vector<RequestAnswer>(4)).log["gold"], 1);
  auto c = loaded("arc_challenge");
  EXPECT_EQ(c->size(), 1172);
  r = c->requests(0);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[2].continuation, " Planetary days will become shorter.");
  res = c->process(0, std::vector<RequestAnswer>(4));
  EXPECT_EQ(res.log["gold"], 2);
  EXPECT_EQ(lengths(res.log["choices"]), (std::vector<std::size_t>{32, 35, 35, 39}));
  EXPECT_EQ(res.items[0].value, 0.0);  // tie -> index 0 != gold 2
  // choice counts 3..5 exist
  std::set<std::size_t> counts;
  for (std::int64_t d = 0; d < c->size(); ++d) counts.insert(c->requests(d).size());
  EXPECT_EQ(counts, (std::set<std::size_t>{3, 4, 5}));
}

TEST(Sciq, GoldIsLastAndEmptySupportStartsWithNewline) {
  auto t = loaded("sciq");
  EXPECT_EQ(t->size(), 60);
  std::size_t empty_support = 0;
  for (std::int64_t d = 0; d < t->size(); ++d) {
    const auto r = t->requests(d);
    ASSERT_EQ(r.size(), 4u);
    const auto res = t->process(d, std::vector<RequestAnswer>(4));
    EXPECT_EQ(res.log["gold"], 3);
    EXPECT_EQ(res.items[0].value, 0.0);  // exact tie -> a distractor wins
    EXPECT_EQ(r[0].context.substr(r[0].context.size() - 8), "\nAnswer:");
    if (r[0].context.rfind("\nQuestion: ", 0) == 0) ++empty_support;
    EXPECT_NE(r[0].context[0], ' ');
  }
  EXPECT_EQ(empty_support, 9u);  // SOURCES.md: 9 records with an empty support
}

TEST(MultipleChoice, FirstIndexArgmaxAndCodePointLengths) {
  EXPECT_EQ(mc_acc({-1.0, -1.0}, 1), 0.0);
  EXPECT_EQ(mc_acc({-1.0, -1.0}, 0), 1.0);
  EXPECT_EQ(mc_acc({-3.0, -1.0, -2.0}, 1), 1.0);
  // "\u00e9\u00e9" has 2 code points (4 bytes); "abc" 3: -2/2 = -1 > -6/3 = -2.
  EXPECT_EQ(mc_acc_norm({-2.0, -6.0}, {"\u00e9\u00e9", "abc"}, 0), 1.0);
  // byte lengths would give -2/4 = -0.5 vs -1.2/3 = -0.4 -> index 1; code points: -1 vs -0.4 -> 1
  EXPECT_EQ(mc_acc_norm({-2.0, -1.2}, {"\u00e9\u00e9", "abc"}, 1), 1.0);
  EXPECT_EQ(mc_acc_norm({-4.0, -2.0}, {" ab ", "a"}, 1), 0.0);  // -1 vs -2: index 0; spaces count
}

TEST(Registry, NamesAndTaskLists) {
  EXPECT_EQ(task_names(), (std::vector<std::string>{"lambada_openai", "piqa", "winogrande", "arc_easy",
                                                    "arc_challenge", "sciq", "wsc", "logiqa",
                                                    "wikitext"}));
  EXPECT_EQ(parse_task_list("piqa, sciq"), (std::vector<std::string>{"piqa", "sciq"}));
  EXPECT_EQ(parse_task_list("piqa,sciq,piqa"), (std::vector<std::string>{"piqa", "sciq"}));
  EXPECT_EQ(parse_task_list("all").size(), 9u);
  EXPECT_THROW(parse_task_list("piqa,hellaswag"), pythia::UsageError);
  EXPECT_THROW(parse_task_list("piqa,,sciq"), pythia::UsageError);
  for (const auto& n : task_names()) {
    auto t = make_task(n);
    const auto cfg = t->config();
    EXPECT_EQ(cfg["task"], n);
    EXPECT_EQ(cfg["metadata"]["version"].get<double>(), t->version());
  }
}

TEST(Data, MissingFileNamesPathAndSource) {
  auto t = make_task("wikitext");
  try {
    t->load("/nonexistent-dir", std::nullopt);
    FAIL();
  } catch (const pythia::DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("/nonexistent-dir/wikitext/wiki.test.raw"), std::string::npos) << msg;
    EXPECT_NE(msg.find("wikitext-2-raw-v1.zip"), std::string::npos) << msg;
  }
}

TEST(Data, LimitKeepsFirstDocuments) {
  auto t = make_task("piqa");
  t->load(kData, 7);
  EXPECT_EQ(t->size(), 7);
  EXPECT_EQ(t->n_original(), 1838);
}

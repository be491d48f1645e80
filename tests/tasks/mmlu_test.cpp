// tasks/mmlu + tasks/csv_records: the CSV reader (RFC 4180 quoting, line breaks inside fields,
// clear errors), both MMLU file layouts, the registry / suites entries and the prompt shape on the
// vendored real data (tests/fixtures/tasks/mmlu, cais/mmlu). Byte-for-byte agreement with lm-eval
// is tests/eval/mmlu_golden_test.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <numeric>

#include "data/error.h"
#include "tasks/csv_records.h"
#include "tasks/fewshot.h"
#include "tasks/mmlu.h"
#include "tasks/registry.h"
#include "tasks/suites.h"

namespace fs = std::filesystem;
using namespace pythia::tasks;

namespace {

const fs::path kFix = fs::path(PYTHIA_FIXTURES_DIR);

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const pythia::DataError& e) {
    return e.what();
  }
  return "(no DataError)";
}

TEST(CsvRecords, QuotingLineBreaksAndTerminators) {
  const auto r = parse_csv("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",,x\n\nlast,\"\"", "f.csv");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].fields, (std::vector<std::string>{"a", "b,c", "say \"hi\""}));
  EXPECT_EQ(r[0].line, 1);
  EXPECT_EQ(r[1].fields, (std::vector<std::string>{"two\nlines", "", "x"}));
  EXPECT_EQ(r[1].line, 2);
  EXPECT_EQ(r[2].fields, (std::vector<std::string>{"last", ""}));
  EXPECT_EQ(r[2].line, 5);  // the blank line 4 is skipped
  EXPECT_EQ(parse_csv("q\"uote,b\rc,d", "f").size(), 2u);  // bare '"' kept; lone '\r' ends a record
  EXPECT_EQ(parse_csv("q\"uote,b", "f")[0].fields[0], "q\"uote");
  EXPECT_TRUE(parse_csv("", "f").empty());
}

TEST(CsvRecords, MalformedInputNamesFileAndLine) {
  EXPECT_NE(error_of([] { parse_csv("a,b\n\"open\nfield,c\n", "x.csv"); })
                .find("x.csv:2: quoted field is not closed"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_csv("a\n\"q\"z,b\n", "x.csv"); }).find("x.csv:2: unexpected character 'z'"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_csv("a\nb\xff\n", "x.csv"); }).find("x.csv:2: not valid UTF-8"),
            std::string::npos);
}

class MmluFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mmlu_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "mmlu/test");
    fs::create_directories(dir_ / "mmlu/dev");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& rel, const std::string& text) {
    std::ofstream(dir_ / "mmlu" / rel, std::ios::binary) << text;
  }
  fs::path dir_;
};

TEST_F(MmluFiles, OriginalAndHubLayoutsReadAlike) {
  // Hendrycks' data.tar layout: no header, answer letter; a question spanning lines.
  write("test/virology_test.csv", "\"Q one\nsecond line \",a,b,\"c, d\",e,C\nQ2,1,2,3,4,A\n");
  // The cais/mmlu dump layout: header, answer index.
  write("dev/virology_dev.csv",
        "question,choice0,choice1,choice2,choice3,answer\nD1,w,x,y,z,3\nD2,w,x,y,z,0\n");
  auto t = make_task("mmlu_virology");
  t->load(dir_, std::nullopt);
  ASSERT_EQ(t->size(), 2);
  const auto req = t->requests(0);
  ASSERT_EQ(req.size(), 4u);
  EXPECT_EQ(req[2].continuation, " C");
  EXPECT_EQ(t->process(0, {{-3.0, false}, {-2.0, false}, {-1.0, false}, {-4.0, false}}).items[0].value, 1.0);
  apply_fewshot(*t, 2, dir_);
  const std::string want_prefix =
      "The following are multiple choice questions (with answers) about virology.\n\n"
      "D1\nA. w\nB. x\nC. y\nD. z\nAnswer: D\n\nD2\nA. w\nB. x\nC. y\nD. z\nAnswer: A\n\n";
  EXPECT_EQ(t->requests(0)[0].context,
            want_prefix + "Q one\nsecond line\nA. a\nB. b\nC. c, d\nD. e\nAnswer:");
  EXPECT_THROW(apply_fewshot(*t, 3, dir_), pythia::DataError);  // 2 dev rows
  // 0-shot: the description alone.
  auto z = make_task("mmlu_virology");
  z->load(dir_, std::nullopt);
  apply_fewshot(*z, 0, dir_);
  EXPECT_EQ(z->requests(1)[0].context,
            "The following are multiple choice questions (with answers) about virology.\n\n"
            "Q2\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:");
}

TEST_F(MmluFiles, BadRowsAreDataErrorsWithFileAndLine) {
  auto load = [&] {
    auto t = make_task("mmlu_anatomy");
    t->load(dir_, std::nullopt);
  };
  EXPECT_NE(error_of(load).find("mmlu/test/anatomy_test.csv"), std::string::npos);  // missing file
  write("test/anatomy_test.csv", "Q,a,b,c,d,A\nQ,a,b,c,E\n");
  EXPECT_NE(error_of(load).find("anatomy_test.csv:2: expected 6 fields"), std::string::npos);
  write("test/anatomy_test.csv", "Q,a,b,c,d,A\n\"multi\nline\",a,b,c,d,E\n");
  EXPECT_NE(error_of(load).find("anatomy_test.csv:2: answer 'E' is not A-D"), std::string::npos);
  write("test/anatomy_test.csv", "question,choice0,choice1,choice2,choice3,answer\nQ,a,b,c,d,B\n");
  EXPECT_NE(error_of(load).find("anatomy_test.csv:2: answer 'B' is not 0-3"), std::string::npos);
}

TEST(Mmlu, RegistryAndSuitesKnowTheSubjects) {
  const auto& subjects = mmlu_subjects();
  ASSERT_EQ(subjects.size(), 57u);
  std::vector<std::string> names;
  std::int64_t docs = 0;
  for (const auto& s : subjects) {
    names.push_back(std::string("mmlu_") + s.name);
    docs += s.test_docs;
    EXPECT_TRUE(is_task(names.back()));
    EXPECT_EQ(real_split_docs(names.back()), s.test_docs);
  }
  EXPECT_EQ(docs, 14042);  // cais/mmlu dataset card: test 14,042
  EXPECT_EQ(suite_tasks("mmlu"), names);
  EXPECT_EQ(parse_task_list("mmlu"), names);
  std::vector<std::string> in_pythia;
  for (const auto& t : pythia_suite_tasks()) {
    if (t.rfind("mmlu_", 0) == 0) in_pythia.push_back(t);
  }
  EXPECT_EQ(in_pythia, names);
  EXPECT_EQ(parse_task_list("piqa,mmlu_anatomy"), (std::vector<std::string>{"piqa", "mmlu_anatomy"}));
  EXPECT_THROW(make_task("mmlu_astrology"), pythia::UsageError);
  std::size_t leaves = 0;
  for (const auto& g : mmlu_group_names()) {
    if (g != "mmlu") leaves += mmlu_group_tasks(g).size();
  }
  EXPECT_EQ(leaves, 57u);
  EXPECT_EQ(mmlu_group_tasks("mmlu").size(), 57u);
  EXPECT_EQ(mmlu_group_tasks("mmlu_stem").size(), 19u);
}

TEST(Mmlu, RealDataCountsMatchTheDatasetCard) {
  std::int64_t test = 0, dev = 0;
  for (const auto& s : mmlu_subjects()) {
    auto t = make_task(std::string("mmlu_") + s.name);
    t->load(kFix / "tasks", std::nullopt);
    EXPECT_EQ(t->n_original(), s.test_docs) << s.name;
    test += t->n_original();
    t->load_fewshot_pool(kFix / "tasks");
    EXPECT_EQ(t->fewshot_pool_size(), 5) << s.name;
    dev += t->fewshot_pool_size();
  }
  EXPECT_EQ(test, 14042);
  EXPECT_EQ(dev, 285);
}

TEST(Mmlu, GroupAggregationRules) {
  // weight_by_size: sum(v n)/sum(n); pooled stderr needs every member's stderr.
  const auto g = aggregate_group({{0.5, 0.1, 10}, {0.25, 0.2, 30}});
  EXPECT_DOUBLE_EQ(g.value, (0.5 * 10 + 0.25 * 30) / 40.0);
  EXPECT_EQ(g.size, 40);
  ASSERT_TRUE(g.stderr_value);
  EXPECT_DOUBLE_EQ(*g.stderr_value, std::sqrt((9 * 0.01 * 10 + 29 * 0.04 * 30) / 38.0 / 40.0));
  EXPECT_DOUBLE_EQ(aggregate_group({{0.5, 0.1, 10}, {0.25, 0.2, 30}}, false).value, 0.375);
  EXPECT_FALSE(aggregate_group({{0.5, std::nullopt, 10}, {0.25, 0.2, 30}}).stderr_value);
  EXPECT_THROW(aggregate_group({}), std::invalid_argument);
}

}  // namespace

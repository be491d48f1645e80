// wsc and logiqa task files: lm-eval's helper functions on edge cases (expected strings printed by
// lm-eval 4e7e0d4's own general_detokenize / preprocess_wsc.default_doc_to_text under Python
// 3.11), the wsc.fixed span repair, the LogiQA record layout (universal newlines), and DataErrors
// naming the file and the place for bad input. Full-split prompts: tests/eval/wsc_logiqa_golden_test.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "data/error.h"
#include "tasks/fewshot.h"
#include "tasks/registry.h"

namespace fs = std::filesystem;
using namespace pythia::tasks;

namespace {

const fs::path kData = fs::path(PYTHIA_FIXTURES_DIR) / "tasks";

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("pythia_wsc_logiqa_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void write(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

std::string load_error(const std::string& task, const fs::path& dir) {
  auto t = make_task(task);
  try {
    t->load(dir, std::nullopt);
  } catch (const pythia::DataError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Wsc, GeneralDetokenizeAsLmEval) {
  EXPECT_EQ(general_detokenize("I do n't know ( really ) , he said \" yes \" ."),
            "I don't know (really), he said\"yes\".");
  EXPECT_EQ(general_detokenize("a  , b 's"), "a , b's");
}

TEST(Wsc, DocToTextSlicesInCodePoints) {
  // WSC train idx 63: U+2019 (3 bytes) before the pronoun; byte slicing would cut 2 characters.
  EXPECT_EQ(wsc_doc_to_text("Do you suppose that Peter is responsible for the captain \u2019s illness? Maybe he "
                            "bribed the cook to put something in his food.",
                            "Peter", "his", 21),
            "Passage: Do you suppose that Peter is responsible for the captain \u2019s illness? Maybe he bribed "
            "the cook to put something in *his* food.\nQuestion: In the passage above, does the pronoun "
            "\"*his*\" refer to \"*Peter*\"?\nAnswer:");
  // Runs of spaces: `pre` is re-joined with single spaces but `post` is cut from the raw text.
  EXPECT_EQ(wsc_doc_to_text("A  b  he c", "b", "he", 2),
            "Passage: A b *he*he c\nQuestion: In the passage above, does the pronoun \"*he*\" refer to "
            "\"*b*\"?\nAnswer:");
}

TEST(Wsc, ValidationSplitWithWscFixedRepair) {
  auto t = make_task("wsc");
  t->load(kData, std::nullopt);
  EXPECT_EQ(t->size(), 104);
  EXPECT_EQ(t->metrics().size(), 1u);
  const auto r = t->requests(5);  // val idx 5: span1_text "The table" is repaired to "the table"
  ASSERT_EQ(r.size(), 2u);
  EXPECT_NE(r[0].context.find("refer to \"*the table*\"?"), std::string::npos) << r[0].context;
  EXPECT_EQ(r[0].continuation, " no");
  EXPECT_EQ(r[1].continuation, " yes");
  EXPECT_EQ(t->process(5, {{-2.0, false}, {-1.0, false}}).items[0].value, 1.0);  // label true
  EXPECT_EQ(t->fewshot_source().split, "train");
  EXPECT_TRUE(t->fewshot_source().exclude_eval_doc);
}

TEST(Wsc, BadRowsNameFileAndLine) {
  const fs::path dir = temp_dir("wsc");
  write(dir / "wsc/val.jsonl",
        "{\"text\": \"Jane gave Joan candy because she was hungry.\", \"target\": {\"span2_index\": 5, "
        "\"span1_index\": 0, \"span1_text\": \"Jane\", \"span2_text\": \"she\"}, \"idx\": 10, \"label\": false}\n"
        "{\"text\": \"x\", \"idx\": 1, \"label\": true}\n");
  std::string msg = load_error("wsc", dir);
  EXPECT_NE(msg.find("val.jsonl:2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("target"), std::string::npos) << msg;

  write(dir / "wsc/val.jsonl",  // unlabelled (test split layout)
        "{\"text\": \"a b\", \"target\": {\"span2_index\": 1, \"span1_index\": 0, \"span1_text\": \"a\", "
        "\"span2_text\": \"b\"}, \"idx\": 0}\n");
  msg = load_error("wsc", dir);
  EXPECT_NE(msg.find("val.jsonl:1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("label"), std::string::npos) << msg;

  write(dir / "wsc/val.jsonl",  // span text not in the text, span index past the last word
        "{\"text\": \"a b\", \"target\": {\"span2_index\": 1, \"span1_index\": 7, \"span1_text\": \"zzz\", "
        "\"span2_text\": \"b\"}, \"idx\": 0, \"label\": true}\n");
  msg = load_error("wsc", dir);
  EXPECT_NE(msg.find("span1_index 7"), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(Logiqa, TestSplitAndRecordLayout) {
  auto t = make_task("logiqa");
  t->load(kData, std::nullopt);
  EXPECT_EQ(t->size(), 651);
  const auto r = t->requests(0);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].context.rfind("Passage: In the planning of a new district in a township, it was decided", 0), 0u);
  // normalize(): "." -> ". " inside the text, then strip.
  EXPECT_NE(r[0].context.find("citizen park. These four"), std::string::npos);
  EXPECT_NE(r[0].context.find("\nChoices:\nA. Civic Park is north of the administrative service area\nB. "),
            std::string::npos);
  EXPECT_EQ(r[0].continuation, " Civic Park is north of the administrative service area");
  EXPECT_FALSE(t->fewshot_source().exclude_eval_doc);  // fewshot split null != test_split "test"
}

TEST(Logiqa, UniversalNewlinesAndBadRecords) {
  const fs::path dir = temp_dir("logiqa");
  const std::string lf = "\nb\nCtx.One\nQ?\nA.x\nB.y.z\nC.w\nD.v\n\na\nC2\nQ2\nA.p\nB.q\nC.r\nD.s";
  write(dir / "lf/logiqa/Test.txt", lf);
  std::string crlf;
  for (char c : lf) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  write(dir / "crlf/logiqa/Test.txt", crlf);
  auto a = make_task("logiqa"), b = make_task("logiqa");
  a->load(dir / "lf", std::nullopt);
  b->load(dir / "crlf", std::nullopt);
  ASSERT_EQ(a->size(), 2);
  ASSERT_EQ(b->size(), 2);
  for (std::int64_t d = 0; d < 2; ++d) {
    const auto ra = a->requests(d), rb = b->requests(d);
    ASSERT_EQ(ra.size(), rb.size());
    for (std::size_t i = 0; i < ra.size(); ++i) {
      EXPECT_EQ(ra[i].context, rb[i].context);
      EXPECT_EQ(ra[i].continuation, rb[i].continuation);
    }
  }
  EXPECT_EQ(a->requests(0)[0].context,
            "Passage: Ctx. One\nQuestion: Q?\nChoices:\nA. x\nB. y. z\nC. w\nD. v\nAnswer:");
  EXPECT_EQ(a->process(0, {{-3, false}, {-1, false}, {-2, false}, {-4, false}}).items[0].value, 1.0);  // gold b

  write(dir / "bad/logiqa/Test.txt", "\na\nC\nQ\nA.x\nB.y\n\ne\nC\nQ\nA.x\nB.y");
  std::string msg = load_error("logiqa", dir / "bad");
  EXPECT_NE(msg.find("Test.txt record 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("label 'e'"), std::string::npos) << msg;
  write(dir / "bad/logiqa/Test.txt", "\nd\nC\nQ\nA.x\nB.y");
  msg = load_error("logiqa", dir / "bad");
  EXPECT_NE(msg.find("only 2 options"), std::string::npos) << msg;
  write(dir / "bad/logiqa/Test.txt", "\na\nC");
  msg = load_error("logiqa", dir / "bad");
  EXPECT_NE(msg.find("record 1"), std::string::npos) << msg;

  // The few-shot pool is Train.txt; a missing one names the path and the source.
  auto t = make_task("logiqa");
  t->load(dir / "lf", std::nullopt);
  try {
    apply_fewshot(*t, 1, dir / "lf");
    FAIL();
  } catch (const pythia::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("logiqa/Train.txt"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("lgw863/LogiQA-dataset"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

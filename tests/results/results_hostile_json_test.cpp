// Hostile results files (fuzz findings F1, F2, F4; fuzz/README.md): each must be a
// ResultsFileError naming the file, never UB, a stack overflow or a foreign exception. Inputs are
// the fuzzers' reproducers in fuzz/regressions/results/ (byte 0 is the fuzz target's mode byte,
// the rest the file) and generated ones.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "data/error.h"
#include "results/memorization_file.h"
#include "results/results_reader.h"
#include "tests/test_util.h"

namespace pythia::results {
namespace {

namespace fs = std::filesystem;

// The tests' scratch folder <temp>/pythia_hostile_json_<pid>, removed when the test ends.
struct TempDir : pythia::testing::ScopedTempDir {
  TempDir() : ScopedTempDir("pythia_hostile_json") {}
};

fs::path write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

// A fuzz reproducer's file bytes (without the target's mode byte).
std::string reproducer(const std::string& name) {
  std::ifstream in(fs::path(PYTHIA_SOURCE_DIR) / "fuzz/regressions/results" / name, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_FALSE(s.empty()) << name;
  return s.empty() ? s : s.substr(1);
}

template <typename Fn>
void expect_error(Fn fn, const fs::path& file, const std::string& what) {
  try {
    fn();
    ADD_FAILURE() << "accepted " << file;
  } catch (const ResultsFileError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg.substr(0, 300) << "\nwanted: " << what;
  }
}

const std::string kV04 = R"({"results": {"t": {"acc,none": 0.5}}, "versions": {"t": 1}, )";

TEST(ResultsHostileJson, F1NshotOutOfIntRange) {
  TempDir d;
  // The reproducer is out of range in versions (checked first), n-shot and n-samples.
  std::string text = reproducer("ub-float-cast-nshot");
  const fs::path f = write(d.path() / "results.json", text);
  expect_error([&] { read_eval_results(f); }, f, "\"versions.t\" must be a number");
  expect_error([&] { read_result_tree(d.path()); }, f, "\"versions.t\" must be a number");
  text.replace(text.find("1e+308}}"), 6, "1");  // versions.t
  write(f, text);
  expect_error([&] { read_eval_results(f); }, f, "\"n-shot.t\" must be an integer");
  expect_error([&] { read_result_tree(d.path()); }, f, "must be an integer");
}

TEST(ResultsHostileJson, F1EveryIntegerFieldIsRangeChecked) {
  TempDir d;
  const std::pair<std::string, std::string> cases[] = {
      {R"("n-shot": {"t": 3000000000})", "n-shot.t"},
      {R"("n-shot": {"t": 1.5})", "n-shot.t"},
      {R"("n-shot": {"t": -1})", "n-shot.t"},
      {R"("n-samples": {"t": {"original": 1e19, "effective": 1}})", "n-samples.t.original"},
      {R"("n-samples": {"t": {"original": 1, "effective": 18446744073709551615}})", "n-samples.t.effective"},
  };
  for (const auto& [extra, key] : cases) {
    const fs::path f = write(d.path() / "results.json", kV04 + extra + "}");
    expect_error([&] { read_eval_results(f); }, f, "\"" + key + "\" must be an integer");
  }
  const fs::path ver = write(d.path() / "ver.json", R"({"results": {"t": {"acc,none": 0.5}}, "versions": {"t": 1e308}})");
  expect_error([&] { read_eval_results(ver); }, ver, "\"versions.t\" must be a number");
  const fs::path v03 = write(d.path() / "v03.json",
                             R"({"results": {"lambada": {"acc": 0.5, "sample_len": -1e300}}, "versions": {"lambada": 0}})");
  expect_error([&] { read_eval_results(v03); }, v03, "sample_len\" must be an integer");
  // Integral values written as floats stay accepted.
  const fs::path ok = write(d.path() / "ok.json", kV04 + R"("n-shot": {"t": 5.0}})");
  EXPECT_EQ(read_eval_results(ok).run.tasks.at(0).num_fewshot, 5);
}

TEST(ResultsHostileJson, F2ConfigNestedAMillionLevels) {
  TempDir d;
  const std::string deep = std::string(1'000'000, '[') + std::string(1'000'000, ']');
  const fs::path f = write(d.path() / "results.json", kV04 + R"("config": )" + deep + "}");
  expect_error([&] { read_eval_results(f); }, f, "nested deeper than 64 levels");
  expect_error([&] { read_result_tree(d.path()); }, f, "nested deeper than 64 levels");
  // 64 levels still read.
  const fs::path ok = write(d.path() / "results.json",
                            kV04 + R"("config": )" + std::string(60, '[') + std::string(60, ']') + "}");
  EXPECT_NO_THROW(read_eval_results(ok));
}

TEST(ResultsHostileJson, F4NumberTooLargeForADouble) {
  TempDir d;
  const fs::path f = write(d.path() / "results.json", reproducer("uncaught-out-of-range-406"));
  expect_error([&] { read_json_file(f); }, f, "not valid JSON");
  expect_error([&] { read_result_tree(d.path()); }, f, "not valid JSON");
}

TEST(MemorizationHostileJson, IntegersAndNesting) {
  TempDir d;
  const fs::path f = d.path() / "memorization.json";
  const std::pair<std::string, std::string> cases[] = {
      {R"({"rows_memorized": 1e300})", "\"rows_memorized\" must be an integer"},
      {R"({"rows_memorized": 1, "step": -1e300})", "\"step\" must be an integer"},
      {R"({"rows_memorized": 1, "row_range": [0, 1e30]})", "\"row_range[]\" must be an integer"},
      {R"({"rows_memorized": 1, "histogram": [1.5]})", "\"histogram[]\" must be an integer"},
      {R"({"rows_memorized": 1, "memorized_indices": 7})", "'memorized_indices' has the wrong type"},
      {R"({"rows_memorized": 1, "x": )" + std::string(100'000, '['), "nested deeper than 64"},
      {R"({"rows_memorized": 1e999})", "not valid JSON"},
  };
  for (const auto& [text, what] : cases) {
    write(f, text);
    expect_error([&] { read_memorization(f); }, f, what);
    expect_error([&] { read_result_tree(d.path()); }, f, what);
  }
  // The writer-side reader (merge / resume) refuses the deep file as a DataError naming it.
  write(f, R"({"a": )" + std::string(1'000'000, '[') + std::string(1'000'000, ']') + "}");
  try {
    read_memorization_document(f);
    ADD_FAILURE() << "accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(f.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nested deeper"), std::string::npos) << e.what();
  }
}

// The writer side (merge, resume): summary_from_json range-checks what it converts.
TEST(MemorizationHostileJson, SummaryFromJsonRangeChecks) {
  TempDir d;
  const fs::path f = d.path() / "memorization.json";
  const std::string rest = R"("rows_scanned": 4, "rows_memorized": 0, "rows_flagged_nan": 0, "rows_unseen": 0,
      "rows_eod_in_target": 0, "histogram": null, "memorized_indices": [], "near_tie_rows": [],
      "memorized_near_tie_rows": [], "flagged_nan_rows": [])";
  const std::pair<std::string, std::string> cases[] = {
      {R"({"continuation_len": 1e300, )" + rest + "}", "\"continuation_len\" must be an integer"},
      {R"({"continuation_len": -3, )" + rest + "}", "\"continuation_len\" must be an integer"},
      {R"({"continuation_len": 2000000000, )" + rest + "}", "\"continuation_len\" must be an integer"},
      {R"({"continuation_len": 2, "rows_scanned": -1e300, )" + rest.substr(rest.find("\"rows_memorized")) + "}",
       "\"rows_scanned\" must be an integer"},
  };
  for (const auto& [text, what] : cases) {
    write(f, text);
    try {
      (void)summary_from_json(read_memorization_document(f), f.string());
      ADD_FAILURE() << "accepted " << text;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(f.string()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what() << "\nwanted: " << what;
    }
  }
  write(f, R"({"continuation_len": 2, )" + rest + "}");
  EXPECT_EQ(summary_from_json(read_memorization_document(f), f.string()).rows_scanned, 4u);
}

}  // namespace
}  // namespace pythia::results

// `pythia-harness tokenize` end to end: the built executable on small JSON-lines files. Expected
// ids come from the vendored goldens (tests/fixtures/tokenizer/edge_cases.jsonl) and lm-eval's
// "foo bar" -> [12110, 2534].
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/jsonl_reader.h"
#include "tests/test_util.h"

namespace {

namespace fs = std::filesystem;

const std::string kTokDir = std::string(PYTHIA_FIXTURES_DIR) + "/tokenizer/";
const std::string kTokenizer = kTokDir + "20B_tokenizer.json.gz";

class TokenizeCmd : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tokenize_cmd_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the executable with `args`; returns the exit code, stderr in err_.
  int run(const std::string& args) {
    const pythia::testing::CliRun r = pythia::testing::run_harness_stderr("tokenize " + args);
    err_ = r.out;
    return r.code;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write(const std::string& name, const std::string& content) const {
    std::ofstream(path(name), std::ios::binary) << content;
  }

  fs::path dir_;
  std::string err_;
};

TEST_F(TokenizeCmd, EncodesAndDecodesRoundTrip) {
  // The first 40 edge cases plus lm-eval's example.
  std::vector<nlohmann::json> cases = pythia::data::read_jsonl(kTokDir + "edge_cases.jsonl");
  cases.resize(40);
  cases.push_back({{"text", "foo bar"}, {"ids", {12110, 2534}}});
  std::string in;
  for (const auto& c : cases) in += nlohmann::json{{"text", c["text"]}}.dump() + "\n";
  write("in.jsonl", in);
  ASSERT_EQ(run("--tokenizer " + kTokenizer + " --input " + path("in.jsonl") + " --output " +
                path("ids.jsonl")),
            0)
      << err_;
  const auto ids = pythia::data::read_jsonl(path("ids.jsonl"));
  ASSERT_EQ(ids.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(ids[i].at("ids"), cases[i].at("ids")) << "line " << i + 1;
  }
  ASSERT_EQ(run("--tokenizer " + kTokenizer + " --decode -i " + path("ids.jsonl") + " -o " +
                path("text.jsonl")),
            0)
      << err_;
  const auto texts = pythia::data::read_jsonl(path("text.jsonl"));
  ASSERT_EQ(texts.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    // The first 40 edge cases are ASCII (NFC leaves them alone), so decode gives the text back.
    EXPECT_EQ(texts[i].at("text"), cases[i].at("text")) << "line " << i + 1;
  }
}

TEST_F(TokenizeCmd, StdinStdoutAndSkipSpecial) {
  write("ids.jsonl", "{\"ids\": [0, 12110, 2534, 1, 50290]}\n");
  const std::string base = std::string(PYTHIA_HARNESS_BIN) + " tokenize --tokenizer " +
                           kTokenizer + " --decode -i - -o - < " + path("ids.jsonl") + " > ";
  ASSERT_EQ(pythia::testing::run_shell(base + path("keep.jsonl")).code, 0);
  ASSERT_EQ(pythia::testing::run_shell(base.substr(0, base.find(" < ")) +
                                       " --skip-special-tokens < " + path("ids.jsonl") + " > " +
                                       path("skip.jsonl"))
                .code,
            0);
  EXPECT_EQ(pythia::data::read_jsonl(path("keep.jsonl")).at(0).at("text"),
            "<|endoftext|>foo bar<|padding|>");
  EXPECT_EQ(pythia::data::read_jsonl(path("skip.jsonl")).at(0).at("text"), "foo bar");
}

TEST_F(TokenizeCmd, ModelFolderUsesItsTokenizerJson) {
  const fs::path model = dir_ / "ckpt";
  fs::create_directories(model);
  fs::copy_file(std::string(PYTHIA_FIXTURES_DIR) + "/pythia-tiny/config.json", model / "config.json");
  write("in.jsonl", "{\"text\": \"foo bar\"}\n");
  const std::string io = " -i " + path("in.jsonl") + " -o " + path("out.jsonl");
  EXPECT_EQ(run("--model " + model.string() + io), 3);  // no tokenizer.json yet
  EXPECT_NE(err_.find("--tokenizer"), std::string::npos) << err_;
  fs::copy_file(kTokenizer, model / "tokenizer.json");  // gzip content is detected
  ASSERT_EQ(run("--model " + model.string() + io), 0) << err_;
  EXPECT_EQ(pythia::data::read_jsonl(path("out.jsonl")).at(0).at("ids"),
            nlohmann::json({12110, 2534}));
}

TEST_F(TokenizeCmd, BadLinesNameFileAndLine) {
  write("bad.jsonl", "{\"text\": \"ok\"}\n{\"txt\": \"no text field\"}\n");
  EXPECT_EQ(run("--tokenizer " + kTokenizer + " -i " + path("bad.jsonl") + " -o " + path("o")), 3);
  EXPECT_NE(err_.find(path("bad.jsonl") + ":2"), std::string::npos) << err_;
  write("bad_ids.jsonl", "{\"ids\": [1, 2.5]}\n");
  EXPECT_EQ(run("--tokenizer " + kTokenizer + " --decode -i " + path("bad_ids.jsonl") + " -o " +
                path("o")),
            3);
  EXPECT_NE(err_.find(path("bad_ids.jsonl") + ":1"), std::string::npos) << err_;
}

TEST_F(TokenizeCmd, UsageErrors) {
  EXPECT_EQ(run("--help"), 0);
  EXPECT_EQ(run("-i x -o y"), 2);  // neither --model nor --tokenizer
  EXPECT_EQ(run("--tokenizer " + kTokenizer + " --model m -i x -o y"), 2);
  EXPECT_EQ(run("--tokenizer " + kTokenizer + " -i x"), 2);
}

}  // namespace

// `pythia-harness score` and `generate` run as a user runs them (PYTHIA_HARNESS_BIN) on the
// vendored fixtures, output checked against the transformers 4.40.2 goldens
// (tests/fixtures/golden/<model>/): logprobs and logsumexp within 1e-4, argmax identical where the
// golden top1-top2 gap > 1e-4, greedy continuations identical (both generation variants).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kFixtures = PYTHIA_FIXTURES_DIR;

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

std::vector<json> read_lines(const fs::path& p) {
  std::vector<json> v;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) v.push_back(json::parse(line));
  return v;
}

struct RunResult {
  int status;
  std::string err;
};

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pythia_score_generate_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  RunResult run(const std::string& args) {
    const fs::path err = dir_ / "stderr.txt";
    const std::string cmd = std::string(PYTHIA_HARNESS_BIN) + " " + args + " 2> " + err.string();
    const int rc = std::system(cmd.c_str());
    std::ifstream in(err);
    std::stringstream ss;
    ss << in.rdbuf();
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, ss.str()};
  }
  fs::path write(const std::string& name, const std::vector<std::string>& lines) {
    const fs::path p = dir_ / name;
    std::ofstream out(p);
    for (const auto& l : lines) out << l << '\n';
    return p;
  }
  fs::path dir_;
};

void check_score(const std::string& model, const fs::path& out_file) {
  const auto seqs = read_json(kFixtures / "golden" / model / "sequences.json")["sequences"];
  const auto outs = read_lines(out_file);
  ASSERT_EQ(outs.size(), seqs.size());
  double worst_lp = 0, worst_lse = 0;
  int argmax_checked = 0;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    const std::string name = seqs[i]["name"];
    const auto pos = read_json(kFixtures / "golden" / model / ("positions_" + name + ".json"));
    EXPECT_EQ(outs[i]["ids"], seqs[i]["ids"]);
    const auto lp = outs[i]["logprobs"].get<std::vector<double>>();
    const auto lse = outs[i]["logsumexp"].get<std::vector<double>>();
    const auto arg = outs[i]["argmax"].get<std::vector<int>>();
    const auto want_lp = pos["next_token_logprob"].get<std::vector<double>>();
    const auto want_lse = pos["logsumexp"].get<std::vector<double>>();
    const auto want_arg = pos["argmax"].get<std::vector<int>>();
    const auto gap = pos["top1_minus_top2"].get<std::vector<double>>();
    ASSERT_EQ(lp.size(), want_lp.size()) << name;
    ASSERT_EQ(lse.size(), want_lse.size()) << name;
    ASSERT_EQ(arg.size(), want_arg.size()) << name;
    for (std::size_t t = 0; t < lp.size(); ++t) {
      worst_lp = std::max(worst_lp, std::abs(lp[t] - want_lp[t]));
      ASSERT_NEAR(lp[t], want_lp[t], 1e-4) << name << " logprob at " << t;
    }
    for (std::size_t t = 0; t < lse.size(); ++t) {
      worst_lse = std::max(worst_lse, std::abs(lse[t] - want_lse[t]));
      ASSERT_NEAR(lse[t], want_lse[t], 1e-4) << name << " logsumexp at " << t;
      if (gap[t] > 1e-4) {
        ++argmax_checked;
        EXPECT_EQ(arg[t], want_arg[t]) << name << " argmax at " << t;
      }
    }
  }
  std::printf("[score %s] max abs diff: logprob %.3g, logsumexp %.3g; %d argmax checked\n",
              model.c_str(), worst_lp, worst_lse, argmax_checked);
}

TEST_F(Cli, ScoreMatchesGoldens) {
  for (const std::string model : {"pythia-tiny", "neox-variant"}) {
    std::vector<std::string> lines;
    const json seqs = read_json(kFixtures / "golden" / model / "sequences.json");
    for (const auto& s : seqs["sequences"])
      lines.push_back(json{{"ids", s["ids"]}}.dump());
    const fs::path in = write("in.jsonl", lines), out = dir_ / "out.jsonl";
    const RunResult r = run("score --model " + (kFixtures / model).string() + " --input " + in.string() +
                      " --output " + out.string() + " --threads 2 --batch-size 3");
    ASSERT_EQ(r.status, 0) << r.err;
    check_score(model, out);
  }
}

TEST_F(Cli, GenerateMatchesBothGoldenVariants) {
  for (const std::string model : {"pythia-tiny", "neox-variant"}) {
    const auto gen = read_json(kFixtures / "golden" / model / "generation.json");
    std::vector<std::string> lines;
    for (const auto& p : gen["prefixes"]) lines.push_back(json{{"ids", p["ids"]}}.dump());
    const fs::path in = write("prefixes.jsonl", lines);
    for (const auto& [variant, flag] : {std::pair<std::string, std::string>{"eval_memorization", " --suppress-eos"},
                                        std::pair<std::string, std::string>{"plain_greedy", ""}}) {
      const fs::path out = dir_ / ("gen_" + variant + ".jsonl");
      const RunResult r = run("generate --model " + (kFixtures / model).string() + " --input " +
                        in.string() + " --output " + out.string() + " --max-new-tokens 32 --batch-size 5" + flag);
      ASSERT_EQ(r.status, 0) << r.err;
      const auto outs = read_lines(out);
      const auto want = gen["variants"][variant]["generated"];
      ASSERT_EQ(outs.size(), want.size());
      int same = 0;
      for (std::size_t i = 0; i < outs.size(); ++i) {
        EXPECT_EQ(outs[i]["ids"], gen["prefixes"][i]["ids"]);
        EXPECT_EQ(outs[i]["generated"], want[i]) << model << " " << variant << " prefix " << i;
        same += outs[i]["generated"] == want[i];
      }
      std::printf("[generate %s %s] %d of %zu continuations identical\n", model.c_str(),
                  variant.c_str(), same, outs.size());
    }
  }
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Output files are byte-identical whatever --threads and --batch-size are.
TEST_F(Cli, OutputDoesNotDependOnThreadsOrBatchSize) {
  const std::string model = (kFixtures / "neox-variant").string();
  std::vector<std::string> lines;
  const json seqs = read_json(kFixtures / "golden" / "neox-variant" / "sequences.json");
  for (const auto& s : seqs["sequences"])
    if (s["length"].get<int>() <= 300) lines.push_back(json{{"ids", s["ids"]}}.dump());
  const fs::path in = write("seqs.jsonl", lines);
  std::vector<std::string> outputs;
  for (const std::string flags : {"--threads 1 --batch-size 1", "--threads 2 --batch-size 4",
                                  "--threads 2 --batch-size 64"}) {
    for (const std::string cmd : {"score", "generate --max-new-tokens 8"}) {
      const fs::path out = dir_ / "o.jsonl";
      const RunResult r = run(cmd + " --model " + model + " -i " + in.string() + " -o " +
                              out.string() + " " + flags);
      ASSERT_EQ(r.status, 0) << r.err;
      outputs.push_back(slurp(out));
    }
  }
  ASSERT_EQ(outputs.size(), 6u);
  for (std::size_t i = 2; i < outputs.size(); ++i)
    EXPECT_EQ(outputs[i], outputs[i % 2]) << "run " << i << " differs";
}

TEST_F(Cli, TextLinesAreTokenizedAndScoredLikeIds) {
  const fs::path tok = kFixtures / "tokenizer" / "20B_tokenizer.json.gz";
  const fs::path in = write("text.jsonl", {R"({"text": "Hello world, this is a test."})"});
  const fs::path out = dir_ / "text_out.jsonl";
  RunResult r = run("score --model " + (kFixtures / "pythia-tiny").string() + " --tokenizer " +
              tok.string() + " -i " + in.string() + " -o " + out.string());
  ASSERT_EQ(r.status, 0) << r.err;
  const auto text_out = read_lines(out);
  ASSERT_EQ(text_out.size(), 1u);
  EXPECT_EQ(text_out[0]["ids"], json::parse("[12092, 1533, 13, 436, 310, 247, 1071, 15]"));
  // The same ids given directly score identically.
  const fs::path in2 = write("ids.jsonl", {json{{"ids", text_out[0]["ids"]}}.dump()});
  const fs::path out2 = dir_ / "ids_out.jsonl";
  r = run("score --model " + (kFixtures / "pythia-tiny").string() + " -i " + in2.string() +
          " -o " + out2.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_lines(out2)[0], text_out[0]);
  // Without a tokenizer (the fixture folder has none) a text line is a data error.
  r = run("score --model " + (kFixtures / "pythia-tiny").string() + " -i " + in.string() +
          " -o " + out2.string());
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.err.find("text.jsonl:1"), std::string::npos) << r.err;
}

TEST_F(Cli, BadInputIsADataErrorNamingFileAndLine) {
  const std::string model = (kFixtures / "pythia-tiny").string();
  const fs::path out = dir_ / "o.jsonl";
  const fs::path bad_json = write("bad.jsonl", {R"({"ids": [1, 2]})", R"({"ids": [1, 2)"});
  for (const std::string cmd : {"score", "generate"}) {
    RunResult r = run(cmd + " --model " + model + " -i " + bad_json.string() + " -o " + out.string());
    EXPECT_EQ(r.status, 3) << r.err;
    EXPECT_NE(r.err.find("bad.jsonl:2"), std::string::npos) << r.err;
  }
  std::vector<int> long_ids(2049, 5);
  const fs::path too_long = write("long.jsonl", {json{{"ids", long_ids}}.dump()});
  RunResult r = run("score --model " + model + " -i " + too_long.string() + " -o " + out.string());
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.err.find("long.jsonl:1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("longer than 2048"), std::string::npos) << r.err;
  const fs::path bad_id = write("badid.jsonl", {R"({"ids": [1, 50304]})"});
  r = run("score --model " + model + " -i " + bad_id.string() + " -o " + out.string());
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.err.find("badid.jsonl:1"), std::string::npos) << r.err;
  r = run("score --model " + model);
  EXPECT_EQ(r.status, 2) << r.err;
}

}  // namespace

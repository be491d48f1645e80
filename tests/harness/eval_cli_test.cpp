// `pythia-harness eval` end to end on the vendored pythia-tiny: files and layouts written, the
// summary table, thread-count independence, pythia-v0 layout, and the errors for a missing data
// file (exit 3, names the path and where to get it), bad data (file:line) and bad flags (exit 2).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "data/jsonl_reader.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;

namespace {

const fs::path kFix = fs::path(PYTHIA_FIXTURES_DIR);

using pythia::testing::CliRun;

// `pythia-harness eval` on the vendored pythia-tiny with its tokenizer, then `args`.
CliRun run(const std::string& args) {
  return pythia::testing::run_harness("eval --model " + (kFix / "pythia-tiny").string() +
                                      " --tokenizer " +
                                      (kFix / "tokenizer/20B_tokenizer.json.gz").string() + " " +
                                      args);
}

fs::path tmpdir(const std::string& name) {
  return pythia::testing::fresh_temp_dir("eval_cli_test_" + name);
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST(EvalCli, WritesLmEvalResultsSamplesAndTable) {
  const fs::path out = tmpdir("a");
  const CliRun r = run("--tasks piqa,lambada_openai,wikitext --limit 5 --log-samples --threads 2 --data-dir " +
                    (kFix / "tasks").string() + " --output " + out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("|    Tasks     |Version|Filter|n-shot|"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("|piqa          |      1|none  |     0|acc"), std::string::npos) << r.out;
  const auto j = read_json(out / "pythia-tiny/main/results.json");
  EXPECT_EQ(j["versions"]["wikitext"], 2.0);
  EXPECT_EQ(j["versions"]["piqa"], 1.0);
  EXPECT_EQ(j["n-samples"]["piqa"]["original"], 1838);
  EXPECT_EQ(j["n-samples"]["piqa"]["effective"], 5);
  EXPECT_EQ(j["results"]["piqa"]["sample_len"], 5);
  EXPECT_TRUE(j["results"]["lambada_openai"].contains("perplexity_stderr,none"));
  EXPECT_EQ(j["results"]["wikitext"]["bits_per_byte_stderr,none"], "N/A");
  EXPECT_EQ(j["config"]["limit"], 5);
  EXPECT_EQ(j["config"]["bootstrap_iters"], 100000);
  EXPECT_EQ(j["configs"]["piqa"]["doc_to_text"], "Question: {{goal}}\nAnswer:");
  const auto samples = pythia::data::read_jsonl(out / "pythia-tiny/main/samples_piqa.jsonl");
  ASSERT_EQ(samples.size(), 10u);  // 5 docs x 2 choices
  EXPECT_EQ(samples[1]["doc_id"], 0);
  EXPECT_EQ(samples[1]["idx"], 1);
  EXPECT_TRUE(samples[0].contains("context_ids"));
  EXPECT_TRUE(samples[0].contains("is_greedy"));
  const auto docs = pythia::data::read_jsonl(out / "pythia-tiny/main/docs_piqa.jsonl");
  ASSERT_EQ(docs.size(), 5u);
  EXPECT_EQ(docs[0]["gold"], 0);
  EXPECT_TRUE(docs[0]["acc"].is_number());
  EXPECT_TRUE(docs[0]["acc_norm"].is_number());
  const auto wdocs = pythia::data::read_jsonl(out / "pythia-tiny/main/docs_wikitext.jsonl");
  ASSERT_EQ(wdocs.size(), 5u);
  EXPECT_EQ(wdocs[0]["word_perplexity"][1], 1036);  // words of page 0 (golden docs)
  EXPECT_EQ(wdocs[0]["byte_perplexity"][1], 5560);
  const auto wt = pythia::data::read_jsonl(out / "pythia-tiny/main/samples_wikitext.jsonl");
  ASSERT_EQ(wt.size(), 5u);
  EXPECT_TRUE(wt[0].contains("windows"));
  fs::remove_all(out);
}

TEST(EvalCli, ThreadCountDoesNotChangeNumbers) {
  const fs::path a = tmpdir("t1"), b = tmpdir("t2");
  const std::string common = "--tasks arc_challenge,winogrande,wikitext --limit 12 --bootstrap-iters 1000 --log-samples --data-dir " + (kFix / "tasks").string();
  ASSERT_EQ(run(common + " --threads 1 --output " + a.string()).code, 0);
  ASSERT_EQ(run(common + " --threads 2 --output " + b.string()).code, 0);
  const auto ja = read_json(a / "pythia-tiny/main/results.json");
  const auto jb = read_json(b / "pythia-tiny/main/results.json");
  EXPECT_EQ(ja["results"], jb["results"]);
  // Every request's logprob bit for bit (the samples files are identical).
  for (const char* t : {"arc_challenge", "winogrande", "wikitext"}) {
    const std::string f = std::string("pythia-tiny/main/samples_") + t + ".jsonl";
    EXPECT_EQ(pythia::data::read_whole_file(a / f), pythia::data::read_whole_file(b / f)) << t;
  }
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(EvalCli, PythiaV0Layout) {
  const fs::path out = tmpdir("v0");
  const CliRun r = run("--tasks lambada_openai,wikitext --limit 4 --bootstrap-iters 1000 --format pythia-v0 --data-dir " +
                    (kFix / "tasks").string() + " --output " + out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = read_json(out / "pythia-tiny/main/results.json");
  EXPECT_TRUE(j["results"]["lambada_openai"].contains("ppl"));
  EXPECT_TRUE(j["results"]["lambada_openai"].contains("ppl_stderr"));
  EXPECT_FALSE(j["results"]["wikitext"].contains("word_perplexity_stderr"));
  EXPECT_EQ(j["versions"]["lambada_openai"], 0);
  EXPECT_EQ(j["versions"]["wikitext"], 1);
  EXPECT_EQ(j["config"]["model"], "hf-causal");
  fs::remove_all(out);
}

TEST(EvalCli, MissingDataFileSaysWhereToGetIt) {
  const fs::path data = tmpdir("nodata");
  const CliRun r = run("--tasks sciq --data-dir " + data.string() + " --output " + data.string());
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find((data / "sciq/test.json").string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SciQ"), std::string::npos) << r.out;
  fs::remove_all(data);
}

TEST(EvalCli, BadDataNamesFileAndLine) {
  const fs::path data = tmpdir("bad");
  fs::create_directories(data / "arc_easy");
  std::ofstream(data / "arc_easy/ARC-Easy-Test.jsonl")
      << R"({"id":"a","question":{"stem":"q","choices":[{"text":"x","label":"A"}]},"answerKey":"A"})" << "\n"
      << R"({"id":"b","question":{"stem":"q","choices":[{"text":"x","label":"A"}]},"answerKey":"C"})" << "\n";
  CliRun r = run("--tasks arc_easy --data-dir " + data.string() + " --output " + data.string());
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("ARC-Easy-Test.jsonl:2"), std::string::npos) << r.out;
  fs::create_directories(data / "piqa");
  std::ofstream(data / "piqa/valid.jsonl") << R"({"goal":"g","sol1":"a","sol2":"b"})" << "\n";
  std::ofstream(data / "piqa/valid-labels.lst") << "2\n";
  r = run("--tasks piqa --data-dir " + data.string() + " --output " + data.string());
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("valid-labels.lst:1"), std::string::npos) << r.out;
  fs::remove_all(data);
}

TEST(EvalCli, BadFlagsAreUsageErrors) {
  EXPECT_EQ(run("--tasks nosuchtask").code, 2);
  EXPECT_EQ(run("--format v9").code, 2);
  EXPECT_EQ(run("--limit 0").code, 2);
}

// Writers of results/eval_results.h against a real lm-eval v0.4 results file
// (tests/fixtures/results/lm-eval/*.results.json, copied from shared/golden/tasks), and the
// Pythia v0.3 layout of spec tasks.md §1.7.
#include "results/eval_results.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "results/results_reader.h"

namespace pythia::results {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kFixtures = fs::path(PYTHIA_FIXTURES_DIR) / "results";

std::set<std::string> keys_of(const json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) out.insert(k);
  return out;
}

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("pythia_results_test_" + name + "_" +
                                            std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

TEST(EvalResultsV04, RoundTripOfGoldenMatchesLayoutAndValues) {
  for (const char* name : {"pythia-tiny", "neox-variant", "mini-pythia-step36"}) {
    SCOPED_TRACE(name);
    const fs::path path = kFixtures / "lm-eval" / (std::string(name) + ".results.json");
    const json golden = read_json_file(path);
    const EvalFile f = read_eval_results(path);
    ASSERT_EQ(f.layout, EvalLayout::kLmEvalV04);
    ASSERT_EQ(f.run.tasks.size(), 7u);
    const json out = to_lm_eval_v04(f.run);

    // Every top-level key lm-eval writes is present (we write no "samples", as its CLI).
    for (const std::string& k : keys_of(golden)) EXPECT_TRUE(out.contains(k)) << "missing " << k;
    // results: identical key sets per task, identical values (numbers bit-equal, "N/A" kept).
    ASSERT_EQ(keys_of(out["results"]), keys_of(golden["results"]));
    for (const auto& [task, entry] : golden["results"].items()) {
      EXPECT_EQ(keys_of(out["results"][task]), keys_of(entry)) << task;
      for (const auto& [k, v] : entry.items()) EXPECT_EQ(out["results"][task][k], v) << task << " " << k;
    }
    EXPECT_EQ(out["group_subtasks"], golden["group_subtasks"]);
    EXPECT_EQ(out["versions"], golden["versions"]);
    EXPECT_EQ(out["n-shot"], golden["n-shot"]);
    EXPECT_EQ(out["higher_is_better"], golden["higher_is_better"]);
    EXPECT_EQ(out["n-samples"], golden["n-samples"]);
    EXPECT_EQ(out["configs"], golden["configs"]);
    EXPECT_EQ(keys_of(out["config"]), keys_of(golden["config"]));
    EXPECT_EQ(out["config"]["bootstrap_iters"], 100000);
  }
}

TEST(EvalResultsV04, StderrNulloptIsNA) {
  EvalRun run;
  TaskResult t;
  t.task = "wikitext";
  t.version = 2.0;
  t.n_original = t.n_effective = 62;
  t.metrics.push_back({"word_perplexity", 33.4, std::nullopt, false});
  t.metrics.push_back({"bits_per_byte", 0.95, std::nullopt, false});
  run.tasks.push_back(t);
  run.config = {{"model", "EleutherAI/pythia-160m"}, {"_top_level", {{"date", 1.5}}}};
  const json out = to_lm_eval_v04(run);
  EXPECT_EQ(out["results"]["wikitext"]["word_perplexity_stderr,none"], "N/A");
  EXPECT_EQ(out["results"]["wikitext"]["bits_per_byte_stderr,none"], "N/A");
  EXPECT_EQ(out["results"]["wikitext"]["sample_len"], 62);
  EXPECT_EQ(out["versions"]["wikitext"], 2.0);
  EXPECT_EQ(out["higher_is_better"]["wikitext"]["word_perplexity"], false);
  EXPECT_EQ(out["date"], 1.5);
  EXPECT_EQ(out["model_name_sanitized"], "EleutherAI__pythia-160m");
  EXPECT_FALSE(out.contains("_top_level"));
  EXPECT_FALSE(out["config"].contains("_top_level"));
}

TEST(EvalResultsV03, PythiaLayout) {
  const EvalFile f = read_eval_results(kFixtures / "lm-eval" / "pythia-tiny.results.json");
  EvalRun run = f.run;
  run.config["model_args"] = "pretrained=EleutherAI/pythia-70m-deduped,revision=step143000";
  const json out = to_pythia_v0(run);
  EXPECT_EQ(keys_of(out), (std::set<std::string>{"results", "versions", "config"}));
  EXPECT_EQ(keys_of(out["results"]["lambada_openai"]),
            (std::set<std::string>{"ppl", "ppl_stderr", "acc", "acc_stderr"}));
  EXPECT_EQ(keys_of(out["results"]["piqa"]),
            (std::set<std::string>{"acc", "acc_stderr", "acc_norm", "acc_norm_stderr"}));
  EXPECT_EQ(keys_of(out["results"]["winogrande"]), (std::set<std::string>{"acc", "acc_stderr"}));
  EXPECT_EQ(keys_of(out["results"]["wikitext"]),
            (std::set<std::string>{"word_perplexity", "byte_perplexity", "bits_per_byte"}));
  for (const char* t : {"lambada_openai", "piqa", "winogrande", "arc_easy", "arc_challenge", "sciq"}) {
    EXPECT_TRUE(out["versions"][t].is_number_integer()) << t;
    EXPECT_EQ(out["versions"][t], 0) << t;
  }
  EXPECT_EQ(out["versions"]["wikitext"], 1);
  EXPECT_EQ(out["results"]["lambada_openai"]["ppl"], 16585875.417095345);
  EXPECT_EQ(out["config"]["model"], "hf-causal");
  EXPECT_EQ(out["config"]["model_args"], run.config["model_args"]);
  EXPECT_EQ(keys_of(out["config"]),
            (std::set<std::string>{"model", "model_args", "num_fewshot", "batch_size", "device",
                                   "no_cache", "limit", "bootstrap_iters", "description_dict"}));
  // And it reads back with v0.4 metric names.
  const EvalFile back = parse_eval_results(out, "v03");
  EXPECT_EQ(back.layout, EvalLayout::kPythiaV03);
  bool found = false;
  for (const auto& t : back.run.tasks) {
    if (t.task != "lambada_openai") continue;
    for (const auto& m : t.metrics) {
      if (m.name == "perplexity") {
        found = true;
        EXPECT_EQ(m.value, 16585875.417095345);
        EXPECT_FALSE(m.higher_is_better);
        ASSERT_TRUE(m.stderr_value);
        EXPECT_EQ(*m.stderr_value, 1856979.072486729);
      }
    }
  }
  EXPECT_TRUE(found);
}

TEST(EvalResultsV03, VersionTable) {
  EXPECT_EQ(v03_task_version("lambada_openai", 1.0), 0);
  EXPECT_EQ(v03_task_version("sciq", 1.0), 0);
  EXPECT_EQ(v03_task_version("wikitext", 2.0), 1);
  EXPECT_EQ(v03_metric_name("lambada_openai", "perplexity"), "ppl");
  EXPECT_EQ(v03_metric_name("wikitext", "word_perplexity"), "word_perplexity");
  EXPECT_EQ(v04_metric_name("lambada_openai", "ppl"), "perplexity");
}

TEST(WriteJsonAtomic, WritesIndent2AndLeavesNoTemporaries) {
  const fs::path dir = temp_dir("atomic");
  const fs::path p = dir / "sub" / "x.json";
  write_json_atomic(p, json{{"a", 1}, {"b", "é"}});
  write_json_atomic(p, json{{"a", 2}, {"b", "é"}});  // overwrite
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "{\n  \"a\": 2,\n  \"b\": \"é\"\n}\n");
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir / "sub")) {
    (void)e;
    ++n;
  }
  EXPECT_EQ(n, 1);
  fs::remove_all(dir);
}

TEST(WriteJsonAtomic, UnwritablePathThrowsNamingIt) {
  try {
    write_json_atomic("/proc/definitely/not/here.json", json::object());
    FAIL() << "no throw";
  } catch (const ResultsFileError& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/definitely"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pythia::results

// `--format pythia-v0` against REAL published files (tests/fixtures/published-evals, EleutherAI/
// pythia evals/): the document we write has the published keys in the published order at every
// level, the same JSON types, and its text differs from the published text only in numbers and in
// the values that truly differ (model_args, device, batch_size, limit); file names as published.
#include <gtest/gtest.h>

#include <iterator>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/error.h"
#include "results/eval_results.h"
#include "results/output_layout.h"
#include "results/python_json.h"
#include "results/results_reader.h"
#include "tasks/registry.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
using nlohmann::ordered_json;
using namespace pythia::results;

namespace {

const fs::path kFixtures = fs::path(PYTHIA_FIXTURES_DIR);
const fs::path kPublished = kFixtures / "published-evals" / "evals" / "pythia-v1";
// The published suite's tasks that we have (the others come with the few-shot work).
const std::vector<std::string> kOurSuiteTasks = {"lambada_openai", "piqa",          "winogrande",
                                                 "arc_easy",       "arc_challenge", "sciq"};
// Config values that truly differ between a run of ours and a published run.
const std::set<std::string> kDifferingConfig = {"model_args", "device", "batch_size", "limit"};

ordered_json read_ordered(const fs::path& p) {
  return ordered_json::parse(pythia::testing::read_bytes(p));
}

std::vector<std::string> keys(const ordered_json& j) {
  std::vector<std::string> k;
  for (const auto& [key, v] : j.items()) k.push_back(key);
  return k;
}

// The published document cut down to `ours`'s tasks, in ours's task order (published task order
// is a Python set's, different in every published file).
ordered_json restrict_to_tasks(const ordered_json& published, const ordered_json& ours) {
  ordered_json out = ordered_json::object();
  for (const auto& [top, v] : published.items()) {
    if (top == "results" || top == "versions") {
      out[top] = ordered_json::object();
      for (const auto& [task, e] : ours[top].items()) {
        if (v.contains(task)) out[top][task] = v[task];
      }
    } else {
      out[top] = v;
    }
  }
  return out;
}

// Structural differences of `ours` from `published` (restricted to ours's tasks): key sequences at
// every level, JSON types, and config values outside kDifferingConfig.
std::vector<std::string> structural_diff(const ordered_json& ours, const ordered_json& published) {
  std::vector<std::string> d;
  if (keys(ours) != keys(published)) d.push_back("top-level keys differ");
  for (const char* part : {"results", "versions"}) {
    if (keys(ours[part]) != keys(published[part])) d.push_back(std::string(part) + ": task keys differ");
  }
  for (const auto& [task, e] : ours["results"].items()) {
    if (!published["results"].contains(task)) continue;
    const ordered_json& p = published["results"][task];
    if (keys(e) != keys(p)) d.push_back("results." + task + ": metric keys differ");
    for (const auto& [m, v] : e.items()) {
      if (p.contains(m) && v.type() != p[m].type()) d.push_back("results." + task + "." + m + ": type");
    }
    const ordered_json& ov = ours["versions"][task];
    const ordered_json& pv = published["versions"][task];
    if (!ov.is_number_integer() || !pv.is_number_integer() || ov != pv) {
      d.push_back("versions." + task + ": " + ov.dump() + " vs " + pv.dump());
    }
  }
  if (keys(ours["config"]) != keys(published["config"])) d.push_back("config keys differ");
  for (const auto& [k, v] : published["config"].items()) {
    if (kDifferingConfig.count(k) || !ours["config"].contains(k)) continue;
    if (ours["config"][k] != v) d.push_back("config." + k + ": " + ours["config"][k].dump() + " vs " + v.dump());
  }
  return d;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::size_t b = 0;
  while (b <= s.size()) {
    const auto e = s.find('\n', b);
    out.push_back(s.substr(b, e == std::string::npos ? std::string::npos : e - b));
    if (e == std::string::npos) break;
    b = e + 1;
  }
  return out;
}

// A line `  "key": value[,]` -> (key, value); nullopt-like empty key for structural lines.
std::pair<std::string, std::string> key_value(const std::string& line) {
  const auto q1 = line.find('"');
  const auto colon = line.find("\": ");
  if (q1 == std::string::npos || colon == std::string::npos) return {"", line};
  std::string v = line.substr(colon + 3);
  if (!v.empty() && v.back() == ',') v.pop_back();
  return {line.substr(0, colon + 1), v};
}

bool is_number(const std::string& v) {
  return !v.empty() && v.find_first_not_of("0123456789.-+eE") == std::string::npos;
}

// `diff ours published` (after restricting published to our tasks in our order): line for line,
// a differing line must keep its key and differ only by a number, or be a kDifferingConfig line.
std::vector<std::string> text_diff(const std::string& ours_text, const std::string& published_text) {
  std::vector<std::string> d;
  const auto a = lines_of(ours_text), b = lines_of(published_text);
  if (a.size() != b.size()) {
    d.push_back("line counts " + std::to_string(a.size()) + " vs " + std::to_string(b.size()));
    return d;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i]) continue;
    const auto [ka, va] = key_value(a[i]);
    const auto [kb, vb] = key_value(b[i]);
    const std::string bare = ka.size() > 2 ? ka.substr(ka.find('"') + 1, ka.size() - ka.find('"') - 2) : "";
    const bool allowed = !ka.empty() && ka == kb &&
                         ((is_number(va) && is_number(vb)) || kDifferingConfig.count(bare) > 0);
    if (!allowed) d.push_back("line " + std::to_string(i + 1) + ": '" + a[i] + "' vs '" + b[i] + "'");
  }
  return d;
}

// Our run of the six tasks: the real lm-eval v0.4 results of pythia-tiny (shared/golden), read
// back, keeping the published suite's tasks in our evaluation order and each task's metrics in
// its metric_list order (TaskResult's contract; the reader's JSON is key-sorted).
EvalRun our_run() {
  EvalRun run = read_eval_results(kFixtures / "results" / "lm-eval" / "pythia-tiny.results.json").run;
  std::vector<TaskResult> kept;
  for (const std::string& name : kOurSuiteTasks) {
    for (const TaskResult& t : run.tasks) {
      if (t.task != name) continue;
      TaskResult ordered = t;
      ordered.metrics.clear();
      for (const auto& spec : pythia::tasks::make_task(name)->metrics()) {
        for (const MetricValue& m : t.metrics) {
          if (m.name == spec.name) ordered.metrics.push_back(m);
        }
      }
      EXPECT_EQ(ordered.metrics.size(), t.metrics.size()) << name;
      kept.push_back(ordered);
    }
  }
  run.tasks = kept;
  run.config = {{"model_args", "pretrained=pythia-tiny,revision=step3000,dtype=float32"},
                {"batch_size", 1}, {"device", "cpu"}, {"limit", nullptr}, {"bootstrap_iters", 100000}};
  return run;
}

}  // namespace

// dump_python_json reproduces the bytes of every vendored published file (Python's json.dumps:
// indent 2 for pythia-v1, 4 for the gpt-neox-written pythia-v0 file; float repr; no trailing
// newline), so what write_ordered_json_atomic writes is formatted as published.
TEST(PythiaV0Layout, SerializerReproducesPublishedBytes) {
  int n = 0;
  for (const auto& e : fs::recursive_directory_iterator(kFixtures / "published-evals" / "evals")) {
    if (e.path().extension() != ".json") continue;
    const std::string text = pythia::testing::read_bytes(e.path());
    const int indent = e.path().string().find("/pythia-v0/") != std::string::npos ? 4 : 2;
    const auto ours = lines_of(dump_python_json(ordered_json::parse(text), indent));
    const auto published = lines_of(text);
    ASSERT_EQ(ours.size(), published.size()) << e.path();
    int bad = 0;
    for (std::size_t i = 0; i < published.size() && bad < 3; ++i) {
      if (ours[i] != published[i]) ++bad;
      EXPECT_EQ(ours[i], published[i]) << e.path() << " line " << i + 1;
    }
    ++n;
  }
  EXPECT_EQ(n, 16);
  // nlohmann's own dump would not do: Grisu2 is not always shortest.
  EXPECT_EQ(ordered_json(0.3100917431192661).dump(), "0.31009174311926607");
  EXPECT_EQ(dump_python_json(ordered_json(0.3100917431192661)), "0.3100917431192661");
}

TEST(PythonJson, FloatReprFollowsPython) {
  // Expected strings: CPython 3 repr() of the same doubles.
  EXPECT_EQ(python_float_repr(2.0), "2.0");
  EXPECT_EQ(python_float_repr(-0.0), "-0.0");
  EXPECT_EQ(python_float_repr(0.1), "0.1");
  EXPECT_EQ(python_float_repr(0.0001), "0.0001");
  EXPECT_EQ(python_float_repr(0.00001), "1e-05");
  EXPECT_EQ(python_float_repr(1.5e-10), "1.5e-10");
  EXPECT_EQ(python_float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(python_float_repr(1e16), "1e+16");
  EXPECT_EQ(python_float_repr(123456789012345680.0), "1.2345678901234568e+17");
  EXPECT_EQ(python_float_repr(16585875.417095345), "16585875.417095345");
  EXPECT_EQ(python_float_repr(1e300), "1e+300");
  EXPECT_EQ(dump_python_json(ordered_json::parse(R"({"a":{},"b":[],"c":[1,2.5],"d":null,"e":"\u00e9"})")),
            "{\n  \"a\": {},\n  \"b\": [],\n  \"c\": [\n    1,\n    2.5\n  ],\n  \"d\": null,\n  \"e\": \"\u00e9\"\n}");
}

TEST(PythiaV0Layout, StructureEqualsPublishedZeroShotFile) {
  const ordered_json ours = to_pythia_v0(our_run());
  EXPECT_EQ(keys(ours["results"]), kOurSuiteTasks);  // run order
  EXPECT_EQ(keys(ours["versions"]), kOurSuiteTasks);
  for (const char* f : {"pythia-160m/zero-shot/160m_step3000.json",
                        "pythia-160m/zero-shot/160m_step0.json",  // device null, use_accelerate
                        "pythia-1b-deduped/zero-shot/1b-deduped_step143000.json"}) {
    const ordered_json published = restrict_to_tasks(read_ordered(kPublished / f), ours);
    for (const std::string& t : kOurSuiteTasks) ASSERT_TRUE(published["results"].contains(t)) << f << t;
    EXPECT_EQ(structural_diff(ours, published), std::vector<std::string>{}) << f;
    EXPECT_EQ(text_diff(dump_python_json(ours), dump_python_json(published)), std::vector<std::string>{}) << f;
  }
}

TEST(PythiaV0Layout, FiveShotRunMatchesPublishedFiveShotFile) {
  EvalRun run = our_run();
  for (TaskResult& t : run.tasks) t.num_fewshot = 5;
  const ordered_json ours = to_pythia_v0(run);
  EXPECT_EQ(ours["config"]["num_fewshot"], 5);
  const ordered_json published =
      restrict_to_tasks(read_ordered(kPublished / "pythia-160m/five-shot/160m-5shot_step3000.json"), ours);
  EXPECT_EQ(structural_diff(ours, published), std::vector<std::string>{});
  EXPECT_EQ(text_diff(dump_python_json(ours), dump_python_json(published)), std::vector<std::string>{});
  // ... and against the zero-shot file num_fewshot is a real difference the check catches.
  const ordered_json zero =
      restrict_to_tasks(read_ordered(kPublished / "pythia-160m/zero-shot/160m_step3000.json"), ours);
  EXPECT_EQ(structural_diff(ours, zero), std::vector<std::string>{"config.num_fewshot: 5 vs 0"});
}

// The checks are not blind: a missing stderr, a reordered metric or a float version are caught.
TEST(PythiaV0Layout, DiffCatchesStructuralChanges) {
  const ordered_json ours = to_pythia_v0(our_run());
  const ordered_json published =
      restrict_to_tasks(read_ordered(kPublished / "pythia-160m/zero-shot/160m_step3000.json"), ours);
  ordered_json bad = ours;
  bad["results"]["piqa"].erase("acc_norm_stderr");
  EXPECT_FALSE(structural_diff(bad, published).empty());
  EXPECT_FALSE(text_diff(dump_python_json(bad), dump_python_json(published)).empty());
  bad = ours;
  const ordered_json ppl = bad["results"]["lambada_openai"];
  bad["results"]["lambada_openai"] = {{"acc", ppl["acc"]}, {"acc_stderr", ppl["acc_stderr"]},
                                      {"ppl", ppl["ppl"]}, {"ppl_stderr", ppl["ppl_stderr"]}};
  EXPECT_FALSE(structural_diff(bad, published).empty());
  bad = ours;
  bad["versions"]["sciq"] = 0.0;
  EXPECT_FALSE(structural_diff(bad, published).empty());
  bad = ours;
  bad["config"]["no_cache"] = false;
  EXPECT_FALSE(text_diff(dump_python_json(bad), dump_python_json(published)).empty());
}

// MMLU subjects are written under their published (v0.3) names and read back as lm-eval 4e7e0d4's.
TEST(PythiaV0Layout, MmluSubjectsUsePublishedNames) {
  EXPECT_EQ(v03_task_name("mmlu_anatomy"), "hendrycksTest-anatomy");
  EXPECT_EQ(v03_task_name("mmlu"), "mmlu");
  EXPECT_EQ(v03_task_name("piqa"), "piqa");
  EXPECT_EQ(v04_task_name("hendrycksTest-anatomy"), "mmlu_anatomy");
  EvalRun run = our_run();
  run.tasks[1].task = "mmlu_anatomy";  // a subject-shaped result (acc, acc_norm like piqa)
  const ordered_json ours = to_pythia_v0(run);
  EXPECT_TRUE(ours["results"].contains("hendrycksTest-anatomy"));
  EXPECT_TRUE(ours["versions"].contains("hendrycksTest-anatomy"));
  const ordered_json published =
      restrict_to_tasks(read_ordered(kPublished / "pythia-160m/zero-shot/160m_step3000.json"), ours);
  EXPECT_EQ(structural_diff(ours, published), std::vector<std::string>{});
  const EvalFile back = parse_eval_results(nlohmann::json::parse(ours.dump()), "v0");
  EXPECT_TRUE(std::any_of(back.run.tasks.begin(), back.run.tasks.end(),
                          [](const TaskResult& t) { return t.task == "mmlu_anatomy"; }));
}

TEST(PythiaV0Layout, TasksWithDifferentShotsAreRefused) {
  EvalRun run = our_run();
  run.tasks[1].num_fewshot = 5;
  EXPECT_THROW(to_pythia_v0(run), pythia::UsageError);
}

TEST(PythiaV0Layout, PublishedFileNames) {
  EXPECT_EQ(published_size_name("EleutherAI/pythia-160m"), "160m");
  EXPECT_EQ(published_size_name("EleutherAI/pythia-v1.1-1b-deduped"), "1b-deduped");
  EXPECT_EQ(published_size_name("pythia-70m-deduped"), "70m-deduped");
  EXPECT_EQ(published_size_name("mini-pythia"), "mini-pythia");
  EXPECT_EQ(published_eval_file_name("EleutherAI/pythia-160m", 3000, 0), "160m_step3000.json");
  EXPECT_EQ(published_eval_file_name("pythia-160m", 3000, 5), "160m-5shot_step3000.json");
  EXPECT_EQ(published_eval_file_name("pythia-1b-deduped", 143000, 5), "1b-deduped-5shot_step143000.json");
  // Each is the name of a vendored published file.
  EXPECT_TRUE(fs::exists(kPublished / "pythia-160m/zero-shot" / published_eval_file_name("pythia-160m", 3000, 0)));
  EXPECT_TRUE(fs::exists(kPublished / "pythia-160m/five-shot" / published_eval_file_name("pythia-160m", 3000, 5)));
  EXPECT_TRUE(fs::exists(kPublished / "pythia-1b-deduped/five-shot" /
                         published_eval_file_name("pythia-1b-deduped", 143000, 5)));
}

// End to end: `eval --format pythia-v0 --published-names` on the mini-pythia fixture writes
// <size>_step<N>.json whose text diffs against a real published file only in numbers and the
// values that truly differ, plus our model_identity as the last key.
TEST(PythiaV0Layout, EvalCommandWritesPublishedFile) {
  const fs::path out = pythia::testing::fresh_temp_dir("pythia_v0_layout_cli");
  std::string tasks;
  for (const auto& t : kOurSuiteTasks) tasks += (tasks.empty() ? "" : ",") + t;
  const auto r = pythia::testing::run_harness(
      "eval --model " + (kFixtures / "mini-pythia").string() + " --revision step36 --tokenizer " +
      (kFixtures / "tokenizer/20B_tokenizer.json.gz").string() + " --tasks " + tasks +
      " --limit 3 --format pythia-v0 --published-names --data-dir " +
      (kFixtures / "tasks").string() + " --output " + out.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const fs::path file = out / "mini-pythia" / "step36" / "mini-pythia_step36.json";
  ASSERT_TRUE(fs::exists(file)) << r.out;
  EXPECT_FALSE(fs::exists(out / "mini-pythia" / "step36" / "results.json"));
  EXPECT_NE(r.out.find(file.string()), std::string::npos) << r.out;
  const std::string text = pythia::testing::read_bytes(file);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '}');  // no trailing newline, as published
  ordered_json ours = ordered_json::parse(text);
  EXPECT_EQ(dump_python_json(ours), text);
  // The one addition to the published keys: which weights made the numbers (model_identity,
  // issue #12), always the last key, so a diff shows it as one trailing block.
  ASSERT_TRUE(ours.contains("model_identity")) << text;
  EXPECT_EQ(std::prev(ours.end()).key(), "model_identity");
  ours.erase("model_identity");
  EXPECT_EQ(ours["config"]["model_args"], "pretrained=mini-pythia,revision=step36,dtype=float32");
  EXPECT_EQ(ours["config"]["limit"], 3);
  const ordered_json published =
      restrict_to_tasks(read_ordered(kPublished / "pythia-160m/zero-shot/160m_step3000.json"), ours);
  EXPECT_EQ(structural_diff(ours, published), std::vector<std::string>{});
  EXPECT_EQ(text_diff(dump_python_json(ours), dump_python_json(published)), std::vector<std::string>{});
  // And it reads back as a v0.3 file.
  EXPECT_EQ(read_eval_results(file).layout, EvalLayout::kPythiaV03);
  fs::remove_all(out);
}

TEST(PythiaV0Layout, PublishedNamesNeedPythiaV0AndAStep) {
  const fs::path out = pythia::testing::fresh_temp_dir("pythia_v0_layout_flags");
  const std::string base = "eval --model " + (kFixtures / "pythia-tiny").string() + " --tokenizer " +
                           (kFixtures / "tokenizer/20B_tokenizer.json.gz").string() +
                           " --tasks piqa --limit 2 --data-dir " + (kFixtures / "tasks").string() +
                           " --output " + out.string() + " --published-names";
  auto r = pythia::testing::run_harness(base);  // lm-eval layout
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--format pythia-v0"), std::string::npos) << r.out;
  r = pythia::testing::run_harness(base + " --format pythia-v0");  // pythia-tiny has no stepN
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("stepN"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out / "pythia-tiny")) << "a file was written";
  fs::remove_all(out);
}

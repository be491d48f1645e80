// Reading Pythia's published evals/ tree (real files: tests/fixtures/published-evals) and comparing
// our results with it by checkpoint (size, step, num_fewshot): names parsed, shot taken from the
// file not the name, a name contradicting its file refused naming it, `compare` of our tree
// against the published one (ok, then a planted regression found at the right checkpoint).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "results/compare.h"
#include "results/eval_results.h"
#include "results/output_layout.h"
#include "results/published_evals.h"
#include "results/results_reader.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
using namespace pythia::results;

namespace {

const fs::path kTree = fs::path(PYTHIA_FIXTURES_DIR) / "published-evals";
const fs::path kV1 = kTree / "evals" / "pythia-v1";
const std::vector<std::string> kOurTasks = {"lambada_openai", "piqa",          "winogrande",
                                            "arc_easy",       "arc_challenge", "sciq"};

// Our run at `step` with the published numbers of `file` for our six tasks.
EvalRun ours_from(const fs::path& file, std::int64_t step) {
  EvalRun run;
  for (const TaskResult& t : read_eval_results(file).run.tasks) {
    for (const auto& name : kOurTasks) {
      if (t.task == name) run.tasks.push_back(t);
    }
  }
  const std::string rev = "step" + std::to_string(step);
  run.config = {{"model", "pythia-160m"},
                {"model_args", "pretrained=pythia-160m,revision=" + rev + ",dtype=float32"},
                {"model_revision", rev}};
  return run;
}

}  // namespace

TEST(PublishedEvals, ParsesPublishedNames) {
  auto n = parse_published_file_name("160m_step3000.json");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->size, "160m");
  EXPECT_EQ(n->step, 3000);
  EXPECT_EQ(n->num_fewshot, 0);
  n = parse_published_file_name("1b-deduped-5shot_step143000.json");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->size, "1b-deduped");
  EXPECT_EQ(n->num_fewshot, 5);
  n = parse_published_file_name("pythia-160m-0shot-global_step11500_eval_results_12-30-2022-23-05-56.json");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->size, "pythia-160m");
  EXPECT_EQ(n->step, 11500);
  EXPECT_FALSE(parse_published_file_name("results.json"));
  EXPECT_FALSE(parse_published_file_name("sweep_complete.json"));
  EXPECT_FALSE(parse_published_file_name("160m_stepX.json"));
}

TEST(PublishedEvals, ReadsTheTreeWithCheckpointsFromTheFiles) {
  const ResultTree tree = read_result_tree(kTree);
  EXPECT_TRUE(tree.published);
  ASSERT_EQ(tree.evals.size(), 16u);
  std::map<std::string, std::string> labels;
  for (const auto& [key, f] : tree.evals) labels[f.path.filename().string()] = checkpoint_label(eval_checkpoint(f, key));
  EXPECT_EQ(labels["160m_step0.json"], "160m step0 0-shot");
  const EvalFile& f0 = tree.evals.at("evals/pythia-v1/pythia-160m/zero-shot/160m_step0.json");
  EXPECT_EQ(labels["160m_step143000.json"], "160m step143000 0-shot");
  EXPECT_EQ(labels["160m-5shot_step3000.json"], "160m step3000 5-shot");
  EXPECT_EQ(labels["1b-deduped-5shot_step143000.json"], "1b-deduped step143000 5-shot");
  // The anomalies: the file's num_fewshot wins over the name.
  EXPECT_EQ(labels["1b-bf16-5shot_step1000.json"], "1b-bf16 step1000 0-shot");
  EXPECT_EQ(labels["160m-0.5MtokBS_step12000.json"], "160m-0.5MtokBS step12000 5-shot");
  // pythia-v0: step from the gpt-neox arguments' iteration.
  EXPECT_EQ(labels["pythia-160m-0shot-global_step11500_eval_results_12-30-2022-23-05-56.json"],
            "160m step11500 0-shot");
  // MMLU subjects are read under lm-eval 4e7e0d4's names.
  EXPECT_TRUE(std::any_of(f0.run.tasks.begin(), f0.run.tasks.end(),
                          [](const TaskResult& t) { return t.task == "mmlu_anatomy"; }));
  // ppl is read as perplexity.
  const EvalFile& f = tree.evals.at("evals/pythia-v1/pythia-160m/zero-shot/160m_step3000.json");
  bool found = false;
  for (const auto& t : f.run.tasks) {
    for (const auto& m : t.metrics) found |= (t.task == "lambada_openai" && m.name == "perplexity");
  }
  EXPECT_TRUE(found);
}

TEST(PublishedEvals, NameContradictingTheFileIsRefusedNamingIt) {
  const fs::path dir = pythia::testing::fresh_temp_dir("published_evals_badname");
  fs::copy_file(kV1 / "pythia-160m/zero-shot/160m_step3000.json", dir / "160m_step5.json");
  try {
    (void)read_result_tree(dir);
    FAIL() << "no error";
  } catch (const ResultsFileError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find((dir / "160m_step5.json").string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("step 5"), std::string::npos) << msg;
    EXPECT_NE(msg.find("step 3000"), std::string::npos) << msg;
  }
  const auto r = pythia::testing::run_harness("compare " + kTree.string() + " " + dir.string());
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("160m_step5.json"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

// Our tree (lm-eval v0.4 results.json per <model>/<revision>, plus a five-shot pythia-v0 file
// with its published name beside it) against the published tree: matched by checkpoint.
TEST(PublishedEvals, CompareOurTreeWithPublishedTree) {
  const fs::path ours = pythia::testing::fresh_temp_dir("published_evals_ours");
  for (const std::int64_t step : {3000, 143000}) {
    write_json_atomic(ours / "pythia-160m" / ("step" + std::to_string(step)) / "results.json",
                      to_lm_eval_v04(ours_from(kV1 / "pythia-160m/zero-shot" /
                                               ("160m_step" + std::to_string(step) + ".json"), step)));
  }
  EvalRun five = ours_from(kV1 / "pythia-160m/five-shot/160m-5shot_step3000.json", 3000);
  for (auto& t : five.tasks) t.num_fewshot = 5;
  write_ordered_json_atomic(ours / "pythia-160m/step3000" / published_eval_file_name("pythia-160m", 3000, 5),
                            to_pythia_v0(five));

  const CompareResult c = compare_trees(read_result_tree(kTree), read_result_tree(ours), CompareOptions{});
  EXPECT_EQ(c.failures(), 0) << format_compare_table(c, true);
  std::set<std::string> where;
  for (const auto& row : c.rows) where.insert(row.where);
  EXPECT_EQ(where, (std::set<std::string>{"160m step3000 0-shot", "160m step143000 0-shot",
                                          "160m step3000 5-shot"}));
  // 6 tasks x (acc [+acc_norm]) with stderrs: lambada 2+2, piqa 4, winogrande 2, arc x2 4, sciq 4.
  EXPECT_EQ(c.rows.size(), 3u * (4 + 4 + 2 + 4 + 4 + 4));

  auto r = pythia::testing::run_harness("compare " + kTree.string() + " " + ours.string());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("3 checkpoint(s) on both sides, 13 only in baseline"), std::string::npos) << r.out;

  // A planted regression at step 143000 is found there.
  EvalRun bad = ours_from(kV1 / "pythia-160m/zero-shot/160m_step143000.json", 143000);
  for (auto& t : bad.tasks) {
    if (t.task == "piqa") t.metrics.front().value -= 0.1;
  }
  write_json_atomic(ours / "pythia-160m/step143000/results.json", to_lm_eval_v04(bad));
  r = pythia::testing::run_harness("compare --only-problems " + kTree.string() + " " + ours.string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("160m step143000 0-shot  piqa"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("REGRESSION"), std::string::npos) << r.out;

  // `report OURS PUBLISHED`: one plot per metric with our series and the published ones (zero-
  // and five-shot apart), steps from the files.
  const fs::path html = ours / "report.html";
  r = pythia::testing::run_harness("report " + ours.string() + " " + kTree.string() + " --output " + html.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string page = pythia::testing::read_bytes(html);
  EXPECT_NE(page.find("data-metric=\"piqa/acc\""), std::string::npos);
  EXPECT_NE(page.find("data-metric=\"mmlu_anatomy/acc\""), std::string::npos);
  EXPECT_NE(page.find(ours.filename().string() + "/pythia-160m"), std::string::npos);
  EXPECT_NE(page.find("published-evals/evals/pythia-v1/pythia-160m/zero-shot (0-shot)"), std::string::npos);
  EXPECT_NE(page.find("published-evals/evals/pythia-v1/pythia-160m/five-shot (5-shot)"), std::string::npos);
  EXPECT_NE(page.find("published-evals/evals/pythia-v1/pythia-1b-bf16/zero-shot (0-shot)"), std::string::npos);
  fs::remove_all(ours);
}

// wsc and logiqa vs lm-eval 4e7e0d4's own outputs (tests/fixtures/golden/wsc-logiqa, made by
// tests/reference/make_wsc_logiqa_goldens.py on tests/fixtures/tasks/{wsc,logiqa}):
// - requests, zero- and five-shot, every document: context / continuation strings byte-identical,
//   token ids (our tokenizer + _encode_pair rules, left truncation to 2048) identical; per-document
//   target, gold and choices identical; the task config equal to lm-eval's logged config;
// - pythia-tiny, zero- and five-shot: every logprob within max(1e-4, 1e-6|lp|), is_greedy,
//   per-document acc / acc_norm, aggregates with stderr, results layout (eval_golden_check.h).
// Data: WSC train/val and LogiQA Test.txt are the real files; LogiQA Train.txt (the few-shot pool)
// is a SAMPLE (see tests/fixtures/tasks/README.md).
#include <regex>

#include "tests/eval/eval_golden_check.h"
#include "tests/eval/request_golden.h"

namespace {

using eval_golden::kFix;

const fs::path kGolden = kFix / "golden/wsc-logiqa";

// lm-eval logs the absolute YAML path and function objects with their address; ours are relative
// and without one. num_fewshot is the run's, not the task's.
nlohmann::json normalized_config(nlohmann::json c) {
  const std::string src = c["metadata"]["config_source"].get<std::string>();
  c["metadata"]["config_source"] = src.substr(src.rfind("lm_eval/tasks/"));
  for (auto& [k, v] : c["fewshot_config"].items()) {
    if (v.is_string()) v = std::regex_replace(v.get<std::string>(), std::regex(" at 0x[0-9a-f]+>$"), ">");
  }
  c.erase("num_fewshot");
  return c;
}

struct ReqCase {
  std::string task;
  int shots;
};
void PrintTo(const ReqCase& c, std::ostream* os) { *os << c.task << " " << c.shots << "-shot"; }

class WscLogiqaRequests : public ::testing::TestWithParam<ReqCase> {};

TEST_P(WscLogiqaRequests, MatchLmEvalOnEveryDocument) {
  const auto [name, shots] = GetParam();
  const fs::path gdir = kGolden / (std::to_string(shots) + "shot") / "requests";
  auto task = tasks::make_task(name);
  task->load(kFix / "tasks", std::nullopt);
  tasks::apply_fewshot(*task, shots, kFix / "tasks");
  ASSERT_EQ(task->size(), tasks::real_split_docs(name)) << "the real evaluation split";

  request_golden::expect_identical_requests(*task, gdir / (name + ".requests.jsonl.gz"),
                                             name + " " + std::to_string(shots) + "-shot");

  // Per-document target / gold / choices as lm-eval logged them.
  const auto docs = data::read_jsonl(gdir / (name + ".docs.jsonl.gz"));
  ASSERT_EQ(static_cast<std::int64_t>(docs.size()), task->size());
  for (std::int64_t d = 0; d < task->size(); ++d) {
    const auto& want = docs[static_cast<std::size_t>(d)];
    std::vector<tasks::RequestAnswer> dummy(task->requests(d).size());
    const auto res = task->process(d, dummy);
    ASSERT_EQ(res.log.at("target"), want["target"]) << name << " doc " << d;
    ASSERT_EQ(res.log.at("gold"), want["gold"]) << name << " doc " << d;
    ASSERT_EQ(res.log.at("choices"), want["choices"]) << name << " doc " << d;
  }

  // The task config lm-eval logs.
  std::ifstream in(gdir / "results.json");
  const auto gres = nlohmann::json::parse(in);
  EXPECT_EQ(normalized_config(task->config()), normalized_config(gres["configs"][name]));
  EXPECT_EQ(gres["configs"][name]["num_fewshot"].get<int>(), shots);
  EXPECT_EQ(gres["n-samples"][name]["original"].get<std::int64_t>(), task->n_original());
}

INSTANTIATE_TEST_SUITE_P(Tasks, WscLogiqaRequests,
                         ::testing::Values(ReqCase{"wsc", 0}, ReqCase{"wsc", 5}, ReqCase{"logiqa", 0},
                                           ReqCase{"logiqa", 5}),
                         [](const auto& info) {
                           return info.param.task + "_" + std::to_string(info.param.shots) + "shot";
                         });

// Log-likelihoods and metrics on pythia-tiny (limits as the goldens were made, see their README).
class WscLogiqaModel : public ::testing::TestWithParam<ReqCase> {};

TEST_P(WscLogiqaModel, MatchesLmEvalOnPythiaTiny) {
  const auto [name, shots] = GetParam();
  const std::string root = "golden/wsc-logiqa/" + std::to_string(shots) + "shot";
  std::ifstream in(kFix / root / "pythia-tiny" / "results.json");
  ASSERT_TRUE(in) << root;
  const auto gres = nlohmann::json::parse(in);
  // As many documents as the golden has (zero-shot: all; five-shot: the first 100, --limit 100).
  const auto limit = gres["n-samples"][name]["effective"].get<std::int64_t>();
  eval_golden::check_case({"pythia-tiny", name}, limit, shots, root);
}

INSTANTIATE_TEST_SUITE_P(Tasks, WscLogiqaModel,
                         ::testing::Values(ReqCase{"wsc", 0}, ReqCase{"wsc", 5}, ReqCase{"logiqa", 0},
                                           ReqCase{"logiqa", 5}),
                         [](const auto& info) {
                           return info.param.task + "_" + std::to_string(info.param.shots) + "shot";
                         });

}  // namespace

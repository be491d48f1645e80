// MMLU vs lm-evaluation-harness 4e7e0d4 itself (tests/fixtures/golden/mmlu, made by
// tests/reference/make_mmlu_goldens.py on the real cais/mmlu files of tests/fixtures/tasks/mmlu):
//  - requests: for every subject, the context / continuation strings byte for byte and the token
//    ids — 0-shot on every test document (14,042 documents, 56,168 requests), 5-shot (first_n from
//    dev, description first) on the first 20 documents of each subject (4,560 requests);
//  - log-likelihoods on pythia-tiny (eval_golden_check.h: logprob within max(1e-4, 1e-6|lp|),
//    is_greedy, per-document acc, aggregates, results layout): 5-shot first 2 documents, 0-shot
//    first 5 documents of every subject;
//  - the group aggregation (mmlu and its four category groups): aggregate_group on lm-eval's
//    per-subject results equals lm-eval's group rows, and on our own per-subject results agrees
//    with them within the acc tolerance.
#include "tests/eval/eval_golden_check.h"

#include "tasks/mmlu.h"
#include "tests/eval/request_golden.h"

namespace {

using eval_golden::kFix;

std::vector<std::string> subject_tasks() {
  std::vector<std::string> out;
  for (const auto& s : tasks::mmlu_subjects()) out.push_back(std::string("mmlu_") + s.name);
  return out;
}

struct ReqCase {
  std::string task;
  int shots;
};
void PrintTo(const ReqCase& c, std::ostream* os) { *os << c.task << " " << c.shots << "-shot"; }

class MmluRequests : public ::testing::TestWithParam<ReqCase> {};

TEST_P(MmluRequests, MatchLmEval) {
  const auto& c = GetParam();
  const fs::path gfile = kFix / "golden/mmlu" / (c.shots == 0 ? "requests-0shot" : "requests-5shot") /
                         (c.task + ".requests.jsonl.gz");
  ASSERT_TRUE(fs::exists(gfile)) << gfile;
  const auto golden = data::read_jsonl(gfile);
  auto task = tasks::make_task(c.task);
  // The 5-shot golden covers the first 20 documents (lm-eval --limit 20).
  task->load(kFix / "tasks", c.shots == 0 ? std::nullopt : std::optional<std::int64_t>(20));
  tasks::apply_fewshot(*task, c.shots, kFix / "tasks");
  const EncodeFn enc = [](std::string_view s) { return eval_golden::tokenizer().encode(s); };
  const auto records = prepare_requests(*task, enc, 2048, 0);
  const auto a = request_golden::compare(c.task + " " + std::to_string(c.shots) + "-shot", records, golden);
  EXPECT_EQ(a.same_text, records.size());
  EXPECT_EQ(a.same_ids, records.size());
}

std::vector<ReqCase> req_cases() {
  std::vector<ReqCase> out;
  for (const int k : {0, 5}) {
    for (const auto& t : subject_tasks()) out.push_back({t, k});
  }
  return out;
}

std::string req_name(const ::testing::TestParamInfo<ReqCase>& info) {
  return info.param.task + "_" + std::to_string(info.param.shots) + "shot";
}

INSTANTIATE_TEST_SUITE_P(Subjects, MmluRequests, ::testing::ValuesIn(req_cases()), req_name);

// Log-likelihoods, per-document acc and aggregates on pythia-tiny.
class MmluLogprobs : public ::testing::TestWithParam<ReqCase> {};

TEST_P(MmluLogprobs, MatchLmEvalOnPythiaTiny) {
  const auto& c = GetParam();
  eval_golden::check_case({"pythia-tiny", c.task}, c.shots == 0 ? 5 : 2, c.shots,
                          c.shots == 0 ? "golden/mmlu/0shot" : "golden/mmlu/5shot");
}

INSTANTIATE_TEST_SUITE_P(Subjects, MmluLogprobs, ::testing::ValuesIn(req_cases()), req_name);

// The group rows of lm-eval's results.json for `shots` on pythia-tiny.
class MmluGroups : public ::testing::TestWithParam<int> {};

TEST_P(MmluGroups, AggregationMatchesLmEval) {
  const int shots = GetParam();
  const int limit = shots == 0 ? 5 : 2;
  const fs::path gdir = kFix / "golden/mmlu" / (shots == 0 ? "0shot" : "5shot") / "pythia-tiny";
  std::ifstream in(gdir / "results.json");
  ASSERT_TRUE(in) << gdir;
  const auto gres = nlohmann::json::parse(in);

  // Our per-subject results on the same documents.
  if (!fs::exists(kFix / "pythia-tiny/config.json")) GTEST_SKIP() << "pythia-tiny not vendored";
  pythia::harness::ThreadSetup threads(2);
  const auto& lm = eval_golden::load_model("pythia-tiny");
  const EncodeFn enc = [](std::string_view s) { return eval_golden::tokenizer().encode(s); };
  std::map<std::string, tasks::GroupMember> ours, theirs;
  results::EvalRun run;
  for (const auto& t : subject_tasks()) {
    auto task = tasks::make_task(t);
    task->load(kFix / "tasks", limit);
    tasks::apply_fewshot(*task, shots, kFix / "tasks");
    const auto ev = evaluate_task(*task, lm, enc, EvalSettings{});
    ASSERT_EQ(ev.result.metrics.size(), 1u);
    ours[t] = {ev.result.metrics[0].value, ev.result.metrics[0].stderr_value, ev.result.n_effective};
    run.tasks.push_back(ev.result);
    const auto& r = gres["results"][t];
    theirs[t] = {r["acc,none"].get<double>(), r["acc_stderr,none"].get<double>(),
                 r["sample_len"].get<std::int64_t>()};
  }
  for (const auto& g : tasks::mmlu_group_names()) {
    std::vector<tasks::GroupMember> m_ours, m_theirs;
    for (const auto& t : tasks::mmlu_group_tasks(g)) {
      m_ours.push_back(ours.at(t));
      m_theirs.push_back(theirs.at(t));
    }
    const auto& want = gres["groups"][g];
    const double want_acc = want["acc,none"].get<double>();
    const double want_se = want["acc_stderr,none"].get<double>();
    // lm-eval's inputs through our aggregation: lm-eval's group row (same formula, same order).
    const auto a = tasks::aggregate_group(m_theirs);
    EXPECT_NEAR(a.value, want_acc, 1e-12) << g;
    ASSERT_TRUE(a.stderr_value);
    EXPECT_NEAR(*a.stderr_value, want_se, 1e-12) << g;
    EXPECT_EQ(a.size, want["sample_len"].get<std::int64_t>()) << g;
    EXPECT_EQ(tasks::mmlu_group_alias(g), want["alias"].get<std::string>()) << g;
    // Our own per-subject results: the acc tolerance of shared/golden/tasks/README.md (1e-6),
    // stderr 1e-4 relative.
    const auto b = tasks::aggregate_group(m_ours);
    EXPECT_NEAR(b.value, want_acc, 1e-6) << g;
    ASSERT_TRUE(b.stderr_value);
    EXPECT_NEAR(*b.stderr_value / want_se - 1.0, 0.0, 1e-4) << g;
    std::printf("%d-shot %s: acc %.10g stderr %.10g (lm-eval %.10g, %.10g), %lld docs\n", shots,
                g.c_str(), b.value, *b.stderr_value, want_acc, want_se,
                static_cast<long long>(b.size));
  }
  // The rows our results file carries (mmlu_group_results -> to_lm_eval_v04) vs lm-eval's.
  run.groups = tasks::mmlu_group_results(run.tasks);
  ASSERT_EQ(run.groups.size(), 5u);
  const auto file = results::to_lm_eval_v04(run);
  EXPECT_EQ(file["group_subtasks"], gres["group_subtasks"]);
  for (const auto& g : tasks::mmlu_group_names()) {
    for (const char* where : {"groups", "results"}) {
      const auto& got = file[where][g];
      const auto& want = gres[where][g];
      std::set<std::string> got_keys, want_keys;
      for (const auto& [k, v] : got.items()) got_keys.insert(k);
      for (const auto& [k, v] : want.items()) want_keys.insert(k);
      EXPECT_EQ(got_keys, want_keys) << where << " " << g;
      EXPECT_EQ(got["alias"], want["alias"]) << g;
      EXPECT_EQ(got["sample_len"], want["sample_len"]) << g;
      EXPECT_EQ(got["sample_count"], want["sample_count"]) << g;
      EXPECT_NEAR(got["acc,none"].get<double>(), want["acc,none"].get<double>(), 1e-6) << g;
    }
    EXPECT_EQ(file["versions"][g], gres["versions"][g]) << g;
  }
  // The group structure lm-eval reports.
  for (const auto& g : tasks::mmlu_group_names()) {
    if (g == "mmlu") continue;
    std::vector<std::string> leaves = gres["group_subtasks"][g].get<std::vector<std::string>>();
    EXPECT_EQ(leaves, tasks::mmlu_group_tasks(g)) << g;
  }
  EXPECT_EQ(gres["group_subtasks"]["mmlu"].get<std::vector<std::string>>(),
            (std::vector<std::string>{"mmlu_stem", "mmlu_other", "mmlu_social_sciences", "mmlu_humanities"}));
}

INSTANTIATE_TEST_SUITE_P(Shots, MmluGroups, ::testing::Values(0, 5));

}  // namespace

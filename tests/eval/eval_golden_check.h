// Shared check of the evaluator on real models vs lm-eval's own outputs (tests/fixtures/golden/tasks, golden
// README "What a C++ test should assert" steps 2-5): every request's logprob within
// max(1e-4, 1e-6 |logprob|) and identical is_greedy (wikitext: every window and document total),
// per-document acc/acc_norm identical except accepted near-ties, aggregates (acc 1e-6;
// perplexities, bits_per_byte and stderrs 1e-4 relative), and the results-file layout.
// With a limit, the expected aggregates are lm-eval's formulas applied to lm-eval's per-document
// values of the same documents. Few-shot: the same checks against golden/tasks-5shot. 2 threads. Used by eval_golden_test.cpp (subset) and
// eval_full_slow_test.cpp (everything).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/jsonl_reader.h"
#include "eval/evaluator.h"
#include "harness/threading.h"
#include "tasks/aggregate.h"
#include "tasks/fewshot.h"
#include "model/gpt_neox.h"
#include "model/tokenizer.h"
#include "results/eval_results.h"
#include "tasks/python_text.h"
#include "tasks/registry.h"

namespace fs = std::filesystem;
using namespace pythia;
using namespace pythia::eval;

namespace eval_golden {

inline const fs::path kFix = fs::path(PYTHIA_FIXTURES_DIR);

inline double tol(double lp) { return std::max(1e-4, 1e-6 * std::fabs(lp)); }

inline const model::Tokenizer& tokenizer() {
  static const model::Tokenizer tok =
      model::Tokenizer::from_file(kFix / "tokenizer/20B_tokenizer.json.gz");
  return tok;
}

struct Case {
  std::string model;  // folder under tests/fixtures and golden/tasks
  std::string task;
};

// Readable test names in ctest listings.
inline void PrintTo(const Case& c, std::ostream* os) { *os << c.model << " " << c.task; }

inline std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string s = info.param.model + "_" + info.param.task;
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

inline std::vector<Case> cases(std::initializer_list<const char*> models) {
  std::vector<Case> out;
  for (const char* m : models) {
    // The tasks with transformers-made zero-shot goldens in golden/tasks (wsc / logiqa have their
    // own: tests/eval/wsc_logiqa_golden_test.cpp).
    for (const char* t : {"lambada_openai", "piqa", "winogrande", "arc_easy", "arc_challenge", "sciq", "wikitext"}) {
      out.push_back({m, t});
    }
  }
  return out;
}

inline const model::GptNeox& load_model(const std::string& name) {
  static std::map<std::string, std::unique_ptr<model::GptNeox>> cache;
  auto& m = cache[name];
  if (!m) m = model::load_gpt_neox(kFix / name);
  return *m;
}

// Margin between the best and second-best of `v` (0 if fewer than two).
inline double margin(std::vector<double> v) {
  if (v.size() < 2) return 0.0;
  std::sort(v.begin(), v.end(), std::greater<>());
  return v[0] - v[1];
}

// Runs one (model, task) case over all documents, or the first `limit` of each task, zero-shot
// against golden/tasks/<model>, or `num_fewshot`-shot against `golden_root`/<model>.
inline void check_case(const Case& c, std::optional<std::int64_t> limit, int num_fewshot = 0,
                       const std::string& golden_root = "golden/tasks") {
  if (!fs::exists(kFix / c.model / "config.json")) {
    GTEST_SKIP() << "model fixture tests/fixtures/" << c.model << " not vendored";
  }
  const fs::path gdir = kFix / golden_root / c.model;
  pythia::harness::ThreadSetup threads(2);
  const auto& lm = load_model(c.model);
  auto task = tasks::make_task(c.task);
  task->load(kFix / "tasks", limit);
  tasks::apply_fewshot(*task, num_fewshot, kFix / "tasks");
  EvalSettings settings;
  const EncodeFn enc = [](std::string_view s) { return tokenizer().encode(s); };
  const TaskEvaluation ev = evaluate_task(*task, lm, enc, settings);

  // Step 2: log-likelihoods.
  auto greq = data::read_jsonl(gdir / (c.task + ".requests.jsonl.gz"));
  if (limit) {
    std::erase_if(greq, [&](const nlohmann::json& g) { return g["doc_id"].get<std::int64_t>() >= *limit; });
  }
  ASSERT_EQ(greq.size(), ev.records.size());
  double max_abs = 0.0, max_rel = 0.0;
  std::size_t lp_ok = 0, greedy_ok = 0, checked = 0;
  std::string first_bad;
  auto check = [&](double got, double want, bool g_got, bool g_want, const std::string& where) {
    ++checked;
    const double d = std::fabs(got - want);
    max_abs = std::max(max_abs, d);
    max_rel = std::max(max_rel, d / std::max(1.0, std::fabs(want)));
    if (d <= tol(want)) {
      ++lp_ok;
    } else if (first_bad.empty()) {
      first_bad = where + ": got " + std::to_string(got) + " want " + std::to_string(want);
    }
    if (g_got == g_want) ++greedy_ok;
  };
  std::vector<std::vector<double>> golden_lls(static_cast<std::size_t>(task->size()));
  for (std::size_t i = 0; i < greq.size(); ++i) {
    const auto& g = greq[i];
    const auto& rec = ev.records[i];
    const std::string where = "request " + std::to_string(i) + " (doc " + std::to_string(rec.request.doc_id) + ")";
    if (rec.request.type == tasks::RequestType::kLoglikelihood) {
      check(rec.answer.logprob, g["logprob"].get<double>(), rec.answer.is_greedy,
            g["is_greedy"].get<bool>(), where);
    } else {
      ASSERT_EQ(g["windows"].size(), rec.windows.size());
      for (std::size_t w = 0; w < rec.windows.size(); ++w) {
        check(rec.windows[w].answer.logprob, g["windows"][w]["logprob"].get<double>(),
              rec.windows[w].answer.is_greedy, g["windows"][w]["is_greedy"].get<bool>(),
              where + " window " + std::to_string(w));
      }
      check(rec.answer.logprob, g["logprob"].get<double>(), false, false, where + " total");
    }
    golden_lls[static_cast<std::size_t>(rec.request.doc_id)].push_back(g["logprob"].get<double>());
  }
  std::printf("[%s %s] logprob: %zu/%zu within tolerance, is_greedy %zu/%zu identical, "
              "max |d| %.3g, max rel %.3g\n",
              c.model.c_str(), c.task.c_str(), lp_ok, checked, greedy_ok, checked, max_abs, max_rel);
  EXPECT_EQ(lp_ok, checked) << "first mismatch: " << first_bad;
  EXPECT_EQ(greedy_ok, checked);

  // Step 3: per-document metrics, near-ties accepted.
  auto gdocs = data::read_jsonl(gdir / (c.task + ".docs.jsonl.gz"));
  if (limit && static_cast<std::int64_t>(gdocs.size()) > *limit) gdocs.resize(static_cast<std::size_t>(*limit));
  ASSERT_EQ(gdocs.size(), ev.docs.size());
  const auto specs = task->metrics();
  std::size_t flips = 0, bad = 0;
  for (std::size_t d = 0; d < gdocs.size(); ++d) {
    for (std::size_t m = 0; m < specs.size(); ++m) {
      const auto& want = gdocs[d][specs[m].name];
      const double got = ev.docs[d].items[m].value;
      if (want.is_array()) {  // wikitext (ll, count)
        EXPECT_EQ(ev.docs[d].items[m].weight, want[1].get<double>()) << "doc " << d;
        EXPECT_LE(std::fabs(got - want[0].get<double>()), tol(want[0].get<double>())) << "doc " << d;
        continue;
      }
      if (specs[m].name == "perplexity") continue;  // = the request logprob, checked above
      if (got == want.get<double>()) continue;
      // Near-tie rule: accept a flip when the golden margin is within the allowed error.
      const auto& lls = golden_lls[d];
      double allowed = 0.0;
      for (double x : lls) allowed = std::max(allowed, tol(x));
      double mg;
      if (specs[m].name == "acc_norm") {
        std::vector<double> norm;
        const auto& ch = gdocs[d]["choices"];
        double min_len = 1e9;
        for (std::size_t k = 0; k < lls.size(); ++k) {
          const double len = static_cast<double>(tasks::code_point_length(ch[k].get<std::string>()));
          min_len = std::min(min_len, len);
          norm.push_back(lls[k] / len);
        }
        mg = margin(norm);
        allowed = 2.0 * allowed / min_len;
      } else {
        mg = margin(lls);
        allowed = 2.0 * allowed;
      }
      if (mg <= allowed) {
        ++flips;
      } else {
        ++bad;
        ADD_FAILURE() << c.task << " doc " << d << " " << specs[m].name << ": got " << got
                      << " want " << want << " (golden margin " << mg << ")";
      }
    }
  }
  std::printf("[%s %s] per-doc metrics: %zu docs, %zu accepted near-tie flips, %zu mismatches\n",
              c.model.c_str(), c.task.c_str(), gdocs.size(), flips, bad);

  // Step 4: aggregates.
  std::ifstream in(gdir / "results.json");
  const auto gres = nlohmann::json::parse(in);
  nlohmann::json gr = gres["results"][c.task];
  if (limit) {
    // Expected aggregates of the first `limit` documents: lm-eval's formulas (tasks/metrics.h,
    // bootstrap included) applied to lm-eval's own per-document values.
    std::vector<tasks::DocResult> gd;
    for (const auto& d : gdocs) {
      tasks::DocResult r;
      for (const auto& s : specs) {
        const auto& v = d[s.name];
        r.items.push_back(v.is_array() ? tasks::MetricItem{v[0].get<double>(), v[1].get<double>()}
                                       : tasks::MetricItem{v.get<double>(), 1.0});
      }
      gd.push_back(std::move(r));
    }
    for (const auto& mv : tasks::aggregate(specs, gd, 100000)) {
      gr[mv.name + ",none"] = mv.value;
      if (mv.stderr_value) {
        gr[mv.name + "_stderr,none"] = *mv.stderr_value;
      } else {
        gr[mv.name + "_stderr,none"] = "N/A";
      }
    }
    gr["sample_len"] = gdocs.size();
  }
  const double n = static_cast<double>(ev.docs.size());
  for (const auto& mv : ev.result.metrics) {
    const double want = gr[mv.name + ",none"].get<double>();
    const auto& want_se = gr[mv.name + "_stderr,none"];
    if (mv.name == "acc" || mv.name == "acc_norm") {
      EXPECT_NEAR(mv.value, want, 1e-6 + static_cast<double>(flips) / n) << mv.name;
      ASSERT_TRUE(mv.stderr_value.has_value());
      EXPECT_NEAR(*mv.stderr_value, want_se.get<double>(), flips ? 1e-3 : 1e-6) << mv.name;
    } else {
      EXPECT_NEAR(mv.value / want - 1.0, 0.0, 1e-4) << mv.name;
      if (want_se.is_string()) {
        EXPECT_EQ(want_se.get<std::string>(), "N/A");
        EXPECT_FALSE(mv.stderr_value.has_value()) << mv.name;
      } else {
        ASSERT_TRUE(mv.stderr_value.has_value());
        EXPECT_NEAR(*mv.stderr_value / want_se.get<double>() - 1.0, 0.0, 1e-4) << mv.name;
      }
    }
    std::printf("[%s %s] %s = %.10g (lm-eval %.10g), stderr %s\n", c.model.c_str(),
                c.task.c_str(), mv.name.c_str(), mv.value, want,
                mv.stderr_value ? std::to_string(*mv.stderr_value).c_str() : "N/A");
  }

  // Step 5: results-file layout of this task.
  results::EvalRun run;
  run.tasks.push_back(ev.result);
  run.config = {{"model", c.model}, {"bootstrap_iters", 100000}};
  const auto ours = results::to_lm_eval_v04(run);
  std::set<std::string> want_keys, got_keys;
  for (const auto& [k, v] : gr.items()) want_keys.insert(k);
  for (const auto& [k, v] : ours["results"][c.task].items()) got_keys.insert(k);
  EXPECT_EQ(got_keys, want_keys);
  EXPECT_EQ(ours["versions"][c.task], gres["versions"][c.task]);
  EXPECT_EQ(ours["n-shot"][c.task], gres["n-shot"][c.task]);
  EXPECT_EQ(ours["higher_is_better"][c.task], gres["higher_is_better"][c.task]);
  EXPECT_EQ(ours["n-samples"][c.task]["original"], gres["n-samples"][c.task]["original"]);
  EXPECT_EQ(ours["n-samples"][c.task]["effective"].get<std::int64_t>(),
            static_cast<std::int64_t>(gdocs.size()));
  EXPECT_EQ(ours["results"][c.task]["sample_len"], gr["sample_len"]);
}

}  // namespace eval_golden

// GptNeox against the transformers 4.40.2 goldens (tests/fixtures/golden/<model>/, see the
// README there): pythia-tiny (parallel residual, rotary_pct 0.25) and neox-variant (sequential
// residual, full rotary, base 50000, eps 1e-6).
// Tolerances (golden README "Comparing an implementation"): next-token logprob, logsumexp and
// full logit rows within 1e-4 absolute; argmax identical where the golden top1-top2 gap > 1e-4;
// hidden states within 1e-4; greedy continuations identical.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "model/logit_ops.h"
#include "neox_golden_fixture.h"

namespace pythia::model::testing {
namespace {

constexpr double kTol = 1e-4;

class GptNeoxGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(GptNeoxGolden, ConfigMatches) {
  const GptNeox& m = model(GetParam());
  const auto summary = read_json(golden_dir(GetParam()) / "sequences.json");
  EXPECT_EQ(m.vocab_size(), 50304);
  EXPECT_EQ(m.max_positions(), 2048);
  EXPECT_FALSE(summary["sequences"].empty());
}

TEST_P(GptNeoxGolden, EveryPositionOfEverySequence) {
  const std::string name = GetParam();
  const GptNeox& m = model(name);
  const auto seqs = read_json(golden_dir(name) / "sequences.json")["sequences"];
  const auto index = read_json(golden_dir(name) / "logits_index.json")["files"];
  double worst_lp = 0, worst_lse = 0, worst_row = 0;
  for (const auto& seq : seqs) {
    const std::string sname = seq["name"];
    const std::vector<Token> ids = seq["ids"].get<std::vector<Token>>();
    std::vector<int> keep;
    for (const auto& f : index)
      if (f["sequence"] == sname) keep.push_back(f["position"].get<int>());
    std::printf("[%s / %s, %zu tokens]\n", name.c_str(), sname.c_str(), ids.size());
    const SequenceStats got = run_sequence(m, ids, keep);
    const auto pos = read_json(golden_dir(name) / ("positions_" + sname + ".json"));
    const auto want_lp = pos["next_token_logprob"].get<std::vector<double>>();
    const auto want_lse = pos["logsumexp"].get<std::vector<double>>();
    const auto want_arg = pos["argmax"].get<std::vector<int>>();
    const auto want_gap = pos["top1_minus_top2"].get<std::vector<double>>();
    worst_lp = std::max(worst_lp, compare("next_token_logprob", got.next_logprob, want_lp, kTol).max_abs);
    worst_lse = std::max(worst_lse, compare("logsumexp", got.logsumexp, want_lse, kTol).max_abs);
    int checked = 0, near_ties = 0, differ = 0;
    for (std::size_t t = 0; t < ids.size(); ++t) {
      if (want_gap[t] > kTol) {
        ++checked;
        if (got.argmax[t] != want_arg[t]) {
          ++differ;
          ADD_FAILURE() << sname << " position " << t << ": argmax " << got.argmax[t]
                        << " != golden " << want_arg[t] << " (golden gap " << want_gap[t] << ")";
        }
      } else {
        ++near_ties;
      }
    }
    std::printf("  argmax: %d positions checked, %d differ, %d near-ties skipped\n", checked,
                differ, near_ties);
    for (const auto& f : index) {
      if (f["sequence"] != sname) continue;
      const int p = f["position"].get<int>();
      const auto want = read_f32(golden_dir(name) / f["file"].get<std::string>());
      worst_row = std::max(worst_row, compare("logits row " + std::to_string(p), got.full_rows.at(p), want, kTol).max_abs);
    }
  }
  std::printf("[%s] max abs diff: next-token logprob %.3g, logsumexp %.3g, logit rows %.3g\n",
              name.c_str(), worst_lp, worst_lse, worst_row);
}

// The same sequence fed in three forward() calls (positions 0-99, 100-249, 250-299: attention
// over keys already in the cache) still matches the goldens.
TEST_P(GptNeoxGolden, ForwardInSeveralCallsUsesTheCache) {
  const std::string name = GetParam();
  const GptNeox& m = model(name);
  const auto seqs = read_json(golden_dir(name) / "sequences.json");
  std::vector<Token> ids;
  for (const auto& seq : seqs["sequences"])
    if (seq["name"] == "len0300") ids = seq["ids"].get<std::vector<Token>>();
  ASSERT_EQ(ids.size(), 300u);
  std::vector<double> lse(300), lp(299);
  KvCache cache = m.make_cache(300);
  std::size_t begin = 0;
  for (const std::size_t end : {100u, 250u, 300u}) {
    std::vector<int> rows;
    for (std::size_t i = begin; i < end; ++i) rows.push_back(static_cast<int>(i - begin));
    m.forward(std::span<const Token>(ids).subspan(begin, end - begin), cache, rows,
              [&](int r, std::span<const float> lg) {
                const std::size_t t = begin + static_cast<std::size_t>(r);
                lse[t] = logsumexp(lg);
                if (t + 1 < ids.size()) lp[t] = lg[static_cast<std::size_t>(ids[t + 1])] - lse[t];
              });
    begin = end;
  }
  EXPECT_EQ(cache.length(), 300);
  const auto pos = read_json(golden_dir(name) / "positions_len0300.json");
  std::printf("[%s / len0300 in 3 calls]\n", name.c_str());
  compare("next_token_logprob", lp, pos["next_token_logprob"].get<std::vector<double>>(), kTol);
  compare("logsumexp", lse, pos["logsumexp"].get<std::vector<double>>(), kTol);
}

TEST_P(GptNeoxGolden, HiddenStatesOfLen0007) {
  const std::string name = GetParam();
  const GptNeox& m = model(name);
  const auto meta = read_json(golden_dir(name) / "hidden_len0007.json");
  std::vector<Token> ids;
  const auto seqs = read_json(golden_dir(name) / "sequences.json");
  for (const auto& seq : seqs["sequences"])
    if (seq["name"] == "len0007") ids = seq["ids"].get<std::vector<Token>>();
  ASSERT_EQ(ids.size(), 7u);
  std::map<std::string, std::vector<float>> got;
  KvCache cache = m.make_cache(7);
  m.forward_with_hook(ids, cache, {}, LogitSink([](int, std::span<const float>) {}),
                      [&](std::string_view what, int rows, int cols, const float* data) {
                        got[std::string(what)].assign(data, data + static_cast<std::size_t>(rows) * cols);
                      });
  std::printf("[%s / hidden states of len0007, in layer order]\n", name.c_str());
  for (const auto& f : meta["files"]) {
    const std::string module = f["module"];
    ASSERT_TRUE(got.count(module)) << "no activation named " << module;
    compare(module, got[module], read_f32(golden_dir(name) / f["file"].get<std::string>()), kTol);
  }
}

// Greedy generation through forward (prefix) + batched decode steps with the KV cache, for both
// variants of generation.json.
void check_generation(const std::string& name, const std::string& variant, bool mask_eos) {
  const GptNeox& m = model(name);
  const auto gen = read_json(golden_dir(name) / "generation.json");
  const auto& v = gen["variants"][variant];
  const int n = static_cast<int>(gen["prefixes"].size());
  const int max_len = gen["max_length"].get<int>();
  const int excluded = mask_eos ? 0 : -1;
  std::vector<KvCache> caches;
  std::vector<std::vector<Token>> out(static_cast<std::size_t>(n));
  std::vector<Token> next(static_cast<std::size_t>(n));
  std::vector<bool> finished(static_cast<std::size_t>(n), false);
  for (int i = 0; i < n; ++i) {
    const auto ids = gen["prefixes"][static_cast<std::size_t>(i)]["ids"].get<std::vector<Token>>();
    caches.push_back(m.make_cache(max_len));
    const int last = static_cast<int>(ids.size()) - 1;
    m.forward(ids, caches.back(), std::vector<int>{last}, [&](int, std::span<const float> lg) {
      next[static_cast<std::size_t>(i)] = argmax(lg, excluded);
    });
  }
  const int prefix_len = gen["prefix_length"].get<int>();
  for (int step = 0; step < max_len - prefix_len; ++step) {
    for (int i = 0; i < n; ++i) {
      const auto u = static_cast<std::size_t>(i);
      out[u].push_back(finished[u] ? 0 : next[u]);
      if (!mask_eos && next[u] == 0) finished[u] = true;  // pad after EOS (plain greedy)
    }
    if (step + 1 == max_len - prefix_len) break;
    std::vector<KvCache*> ptrs;
    for (auto& c : caches) ptrs.push_back(&c);
    m.decode(next, ptrs, [&](int b, std::span<const float> lg) {
      next[static_cast<std::size_t>(b)] = argmax(lg, excluded);
    });
  }
  const auto want = v["generated"].get<std::vector<std::vector<Token>>>();
  const auto gaps = v["step_top1_minus_top2"].get<std::vector<std::vector<double>>>();
  int mismatched_rows = 0;
  for (int i = 0; i < n; ++i) {
    const auto u = static_cast<std::size_t>(i);
    const auto diff = std::mismatch(out[u].begin(), out[u].end(), want[u].begin());
    if (diff.first != out[u].end()) {
      ++mismatched_rows;
      const auto step = static_cast<std::size_t>(diff.first - out[u].begin());
      ADD_FAILURE() << name << " " << variant << " prefix " << i << ": first mismatch at step "
                    << step << " (got " << *diff.first << ", golden " << *diff.second
                    << "; golden top1-top2 gap there " << gaps[u][step] << ")";
    }
  }
  std::printf("[%s / %s] %d of %d continuations identical (32 tokens each)\n", name.c_str(),
              variant.c_str(), n - mismatched_rows, n);
}

TEST_P(GptNeoxGolden, GreedyEvalMemorizationEosMasked) {
  check_generation(GetParam(), "eval_memorization", true);
}

TEST_P(GptNeoxGolden, GreedyPlain) { check_generation(GetParam(), "plain_greedy", false); }

INSTANTIATE_TEST_SUITE_P(Models, GptNeoxGolden,
                         ::testing::Values(std::string("pythia-tiny"), std::string("neox-variant")),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string s = param_info.param;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

}  // namespace
}  // namespace pythia::model::testing

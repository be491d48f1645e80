// Staged teacher forcing (ScanConfig::stage_ends, memorization/scanner.h) gives the same
// RowScore, bit for bit, as the single teacher-forced pass: on the vendored mini-pythia step36
// checkpoint, for ordinary mini-pile rows (nearly all mismatch at t = 32), the probe rows (many
// memorized) and probe rows corrupted at a chosen position t (first mismatch exactly t, one on
// each side of every stage boundary), in exact and memorized-only mode, with and without TBB.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/indexed_dataset.h"
#include "memorization/scanner.h"
#include "model/gpt_neox.h"

namespace fs = std::filesystem;
using namespace pythia::memorization;
using namespace pythia::results;
using pythia::model::Token;

namespace {

const fs::path kFix = PYTHIA_FIXTURES_DIR;
constexpr int kW = 64;

const pythia::model::GptNeox& mini_pythia() {
  static const auto lm = pythia::model::load_gpt_neox(kFix / "mini-pythia" / "step36");
  return *lm;
}

void add_rows(const std::string& prefix, std::uint64_t n, std::vector<Token>& windows,
              std::vector<std::uint64_t>& indices) {
  const pythia::data::IndexedDataset ds(prefix);
  for (std::uint64_t i = 0; i < n && i < ds.size(); ++i) {
    std::vector<Token> w(kW);
    ds.read_tokens(i, w);
    windows.insert(windows.end(), w.begin(), w.end());
    indices.push_back(indices.size());
  }
}

std::vector<RowScore> run(const std::vector<Token>& windows, const std::vector<std::uint64_t>& indices,
                          std::vector<int> stage_ends, bool exact, bool parallel) {
  ScanConfig cfg;
  cfg.exact_score = exact;
  cfg.stage_ends = std::move(stage_ends);
  const MemorizationScanner scanner(mini_pythia(), cfg);
  std::vector<RowScore> out(indices.size());
  scanner.score(windows, indices, out, parallel);
  return out;
}

bool same(const RowScore& a, const RowScore& b) {
  return a.index == b.index && a.matches == b.matches && a.first_mismatch == b.first_mismatch &&
         std::memcmp(&a.min_margin, &b.min_margin, sizeof(float)) == 0 && a.nan == b.nan &&
         a.memorized == b.memorized && a.score_known == b.score_known &&
         a.eod_in_target == b.eod_in_target;
}

TEST(MemorizationStaged, SameRowScoresAsOneTeacherForcedPass) {
  std::vector<Token> windows;
  std::vector<std::uint64_t> indices;
  add_rows((kFix / "mini-pile" / "document").string(), 48, windows, indices);
  const std::size_t n_probe_begin = indices.size();
  add_rows((kFix / "mini-pile-probe" / "document").string(), 96, windows, indices);
  const std::size_t n_probe_end = indices.size();

  // First mismatches of the single pass, to pick memorized probe rows to corrupt.
  const auto base = run(windows, indices, {}, false, true);
  std::vector<std::size_t> memorized;
  for (std::size_t i = n_probe_begin; i < n_probe_end; ++i)
    if (base[i].memorized) memorized.push_back(i);
  ASSERT_GE(memorized.size(), 4u) << "the step36 probe rows should include memorized rows";
  // Corrupting x[t] of a memorized row makes t its first mismatch (A(t-1) depends on x[0..t-1]).
  const std::vector<int> cuts = {32, 33, 34, 36, 37, 38, 44, 45, 46, 50, 62, 63};
  for (std::size_t k = 0; k < cuts.size(); ++k) {
    const std::size_t src = memorized[k % memorized.size()];
    std::vector<Token> w(windows.begin() + static_cast<std::ptrdiff_t>(src * kW),
                         windows.begin() + static_cast<std::ptrdiff_t>((src + 1) * kW));
    const auto t = static_cast<std::size_t>(cuts[k]);
    w[t] = w[t] == 500 ? 501 : 500;
    windows.insert(windows.end(), w.begin(), w.end());
    indices.push_back(indices.size());
  }

  std::vector<std::vector<int>> plans = {
      default_stage_ends(32, 32), {32, 63}, {40, 63}, {33, 34, 35, 47, 63}, {}};
  std::vector<int> every;  // one token per stage
  for (int e = 32; e <= 63; ++e) every.push_back(e);
  plans.push_back(every);

  for (const bool exact : {true, false}) {
    const auto ref = run(windows, indices, {}, exact, false);
    std::map<int, int> hist;
    for (const auto& r : ref) ++hist[r.first_mismatch];
    for (std::size_t k = 0; k < cuts.size(); ++k)
      EXPECT_EQ(ref[n_probe_end + k].first_mismatch, cuts[k]) << "corrupted row at t=" << cuts[k];
    int compared = 0, differ = 0, runs = 0;
    for (const auto& p : plans) {
      for (const bool parallel : {true, false}) {
        if (!parallel && p != plans.front()) continue;  // serial only for the job's plan
        const auto got = run(windows, indices, p, exact, parallel);
        ++runs;
        for (std::size_t i = 0; i < ref.size(); ++i) {
          ++compared;
          if (!same(ref[i], got[i])) {
            ++differ;
            ADD_FAILURE() << (exact ? "exact" : "memorized-only") << " row " << i << " plan of "
                          << p.size() << " stages: matches " << got[i].matches << " vs "
                          << ref[i].matches << ", first_mismatch " << got[i].first_mismatch << " vs "
                          << ref[i].first_mismatch << ", min_margin " << got[i].min_margin << " vs "
                          << ref[i].min_margin;
          }
        }
      }
    }
    std::string h;
    for (const auto& [m, c] : hist) h += " " + std::to_string(m) + ":" + std::to_string(c);
    std::printf("%s: %zu rows x %d runs (%zu plans): %d RowScores compared with the single pass, %d "
                "differ; first_mismatch histogram%s\n",
                exact ? "exact" : "memorized-only", ref.size(), runs, plans.size(), compared, differ, h.c_str());
    EXPECT_EQ(differ, 0);
  }
}

TEST(MemorizationStaged, DefaultPlanAndValidation) {
  EXPECT_EQ(default_stage_ends(32, 32), (std::vector<int>{33, 37, 45, 63}));
  EXPECT_EQ(default_stage_ends(32, 4), (std::vector<int>{33, 35}));
  EXPECT_EQ(default_stage_ends(8, 1), (std::vector<int>{8}));
  ScanConfig c;
  for (const std::vector<int>& bad : std::vector<std::vector<int>>{{31, 63}, {40, 40, 63}, {33, 62}, {33, 64}}) {
    c.stage_ends = bad;
    EXPECT_THROW(MemorizationScanner(mini_pythia(), c), std::invalid_argument);
  }
  c.stage_ends = {32, 63};
  EXPECT_NO_THROW(MemorizationScanner(mini_pythia(), c));
}

}  // namespace

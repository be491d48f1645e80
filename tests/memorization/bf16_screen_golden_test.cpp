// Memorization with the bf16 screen (memorization/bf16_screen.h, `memorize --compute bf16`):
// the scores equal the fp32 scan row for row on every vendored memorization golden (mini-pythia
// step1/12/36 on mini-pile, step12/36 on mini-pile-probe) and on held-out scans the goldens do
// not cover (step1 and step12 on every mini-pile row, step36 on 256 rows of random tokens);
// memorized, near-tie and NaN lists equal too. Prints how many rows were re-scored in fp32.
// Also the re-check rule itself: an infinite deviation re-scores every row, a threshold below
// every margin none; the calibrated screen equals the fp32 scanner on random rows.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "data/gzip_stream.h"
#include "memorization/bf16_screen.h"
#include "memorization/scan_job.h"
#include "model/gpt_neox.h"
#include "tests/memmap_writer.h"
#include "tests/test_util.h"
#include "results/memorization_file.h"

namespace fs = std::filesystem;
using namespace pythia::memorization;
using namespace pythia::results;

namespace {

const fs::path kFix = PYTHIA_FIXTURES_DIR;

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Each test's scratch folder <temp>/bf16screen_<tag>_<pid>, removed when the test ends.
class TempDir : public pythia::testing::ScopedTempDir {
 public:
  explicit TempDir(const std::string& tag) : ScopedTempDir("bf16screen_" + tag) {}
};

// R preshuffled-layout rows (2049 uint16 tokens) of random ids < 50277 (seeded).
void write_random_memmap(const fs::path& prefix, int R, unsigned seed) {
  std::mt19937 g(seed);
  pythia::testing::write_preshuffled_memmap(prefix, R, 2049,
                                            [&](int, int) { return g() % 50277; });
}

struct Run {
  std::string csv;
  nlohmann::json json;
};

// One scan of `step` into out/<tag>; bf16 screen when `bf16`.
Run scan(const pythia::model::GptNeox& exact, const pythia::model::GptNeox* fast, int step, ScanPlan o,
         const fs::path& out) {
  o.output = out.string();
  o.progress = false;
  const std::string rev = "step" + std::to_string(step);
  if (fast != nullptr) run_memorize_job(*fast, "mini-pythia", rev, o, nullptr, &exact);
  else run_memorize_job(exact, "mini-pythia", rev, o);
  const fs::path dir = out / "mini-pythia" / rev;
  return {pythia::data::read_whole_file(dir / kScoresCsv), nlohmann::json::parse(read_text(dir / kMemorizationJson))};
}

// The golden CSV without its header line, as our CSV writes it.
std::string golden_body(const fs::path& p) {
  std::string t = read_text(p);
  return t.substr(t.find('\n') + 1);
}

// bf16-screened scan == fp32 scan (and == golden when given); returns rows re-scored.
std::uint64_t expect_same_as_fp32(int step, const ScanPlan& o, const std::string& what,
                                  const fs::path& golden = {}) {
  TempDir tmp("cmp");
  const auto exact = pythia::model::load_gpt_neox(kFix / "mini-pythia" / ("step" + std::to_string(step)));
  const auto fast = exact->with_compute(pythia::model::Compute::kBf16);
  const Run a = scan(*exact, nullptr, step, o, tmp.path() / "fp32");
  const Run b = scan(*exact, fast.get(), step, o, tmp.path() / "bf16");
  EXPECT_EQ(a.csv, b.csv) << what;
  if (!golden.empty()) {
    EXPECT_EQ(b.csv, golden_body(golden)) << what << " vs golden";
  }
  for (const char* k : {"rows_scanned", "rows_memorized", "mean_score", "histogram", "memorized_indices",
                        "near_tie_rows", "memorized_near_tie_rows", "nan_rows"}) {
    if (a.json.contains(k)) {
      EXPECT_EQ(a.json[k], b.json[k]) << what << ": " << k;
    }
  }
  EXPECT_FALSE(a.json["run"].contains("bf16_screen"));
  const auto& s = b.json["run"]["bf16_screen"];
  EXPECT_EQ(s["calibration_rows"].get<std::uint64_t>(), std::min<std::uint64_t>(64, s["rows_screened"].get<std::uint64_t>()));
  EXPECT_GT(s["max_logit_deviation"].get<double>(), 0.0);
  const auto rechecked = s["rows_rechecked"].get<std::uint64_t>();
  std::printf("%s: %llu rows, %llu re-scored in fp32 (max |dlogit| %.3g, B %.3g), near ties %zu\n", what.c_str(),
              static_cast<unsigned long long>(s["rows_screened"].get<std::uint64_t>()),
              static_cast<unsigned long long>(rechecked), s["max_logit_deviation"].get<double>(),
              s["bound"].get<double>(), a.json["near_tie_rows"].size());
  return rechecked;
}

ScanPlan pile(const fs::path& data = kFix / "mini-pile" / "document") {
  ScanPlan o;
  o.data = data;
  o.sequences_per_step = 16;
  o.extended_csv = false;
  return o;
}

TEST(Bf16ScreenGolden, EqualsFp32AndTheGoldenOnEveryMemorizationGolden) {
  for (int step : {1, 12, 36}) {
    const std::string rev = "step" + std::to_string(step);
    expect_same_as_fp32(step, pile(), "mini-pile " + rev, kFix / "golden/mini-pythia" / ("memorization_" + rev + ".csv"));
  }
  for (int step : {12, 36}) {
    const std::string rev = "step" + std::to_string(step);
    ScanPlan o = pile(kFix / "mini-pile-probe" / "document");
    o.start = 0;
    o.end = 96;
    expect_same_as_fp32(step, o, "mini-pile-probe " + rev,
                        kFix / "golden/mini-pythia" / ("probe_memorization_" + rev + ".csv"));
  }
}

TEST(Bf16ScreenGolden, EqualsFp32OnHeldOutScans) {
  for (int step : {1, 12}) {  // every mini-pile row (the goldens cover only rows < 16 * step)
    ScanPlan o = pile();
    o.start = 0;
    o.end = 576;
    expect_same_as_fp32(step, o, "held-out mini-pile rows 0..575, step" + std::to_string(step));
  }
  TempDir data("data");
  write_random_memmap(data.path() / "random", 256, 20261203);
  ScanPlan o = pile(data.path() / "random");
  o.start = 0;
  o.end = 256;
  o.batch_size = 50;
  expect_same_as_fp32(36, o, "held-out random tokens, 256 rows, step36");
}

TEST(Bf16Screen, ReCheckRule) {
  const auto exact = pythia::model::load_gpt_neox(kFix / "mini-pythia" / "step36");
  const auto fast = exact->with_compute(pythia::model::Compute::kBf16);
  ScanConfig cfg;
  const int W = cfg.window(), R = 20;
  std::mt19937 g(3);
  std::vector<pythia::model::Token> w(static_cast<std::size_t>(R) * W);
  for (auto& t : w) t = static_cast<pythia::model::Token>(g() % 50277);
  std::vector<std::uint64_t> idx(R);
  for (int i = 0; i < R; ++i) idx[static_cast<std::size_t>(i)] = static_cast<std::uint64_t>(i);
  const double delta = max_logit_deviation(*fast, *exact, w, cfg.prefix_len, cfg.continuation_len);
  EXPECT_GT(delta, 0.0);
  EXPECT_LT(delta, 0.1);
  std::vector<RowScore> ref(R), screened(R), all(R), none(R);
  MemorizationScanner(*exact, cfg).score(w, idx, ref);
  const ScreenedScanner s(*fast, *exact, cfg, 0.0625, delta, R);
  s.score(w, idx, screened);
  const ScreenedScanner every(*fast, *exact, cfg, 0.0, std::numeric_limits<double>::infinity(), R);
  every.score(w, idx, all);
  EXPECT_EQ(every.stats().rows_rechecked, static_cast<std::uint64_t>(R));
  const ScreenedScanner never(*fast, *exact, cfg, -1e30, 0.0, R);  // threshold below every margin
  never.score(w, idx, none);
  EXPECT_EQ(never.stats().rows_rechecked, 0u);
  int bf16_margin_differs = 0;
  for (int i = 0; i < R; ++i) {
    EXPECT_EQ(screened[i].matches, ref[i].matches) << i;
    EXPECT_EQ(screened[i].first_mismatch, ref[i].first_mismatch) << i;
    EXPECT_EQ(all[i].min_margin, ref[i].min_margin) << i;  // every row re-scored: fp32 values
    bf16_margin_differs += none[i].min_margin != ref[i].min_margin;  // pure bf16 margins
  }
  EXPECT_GT(bf16_margin_differs, 0);
  const ScreenStats st = s.stats();
  EXPECT_DOUBLE_EQ(st.bound, kSafetyFactor * 2 * delta);
  EXPECT_DOUBLE_EQ(st.threshold, 0.0625 + st.bound);
  EXPECT_EQ(st.rows_screened, static_cast<std::uint64_t>(R));
}

}  // namespace

namespace {

// The command line: `memorize --compute bf16` writes the golden scores and records the screen;
// an unknown --compute is a usage error (exit 2) before any model loads.
TEST(Bf16ScreenGolden, MemorizeCommandLine) {
  TempDir tmp("cli");
  const std::string base = std::string(PYTHIA_HARNESS_BIN) + " memorize --model " + (kFix / "mini-pythia").string() +
                           " --revision step12 --data " + (kFix / "mini-pile" / "document").string() +
                           " --sequences-per-step 16 --no-progress --output " + tmp.path().string();
  ASSERT_EQ(std::system((base + " --compute bf16 > /dev/null").c_str()), 0);
  const fs::path dir = tmp.path() / "mini-pythia" / "step12";
  EXPECT_EQ(pythia::data::read_whole_file(dir / kScoresCsv),
            golden_body(kFix / "golden/mini-pythia/memorization_step12.csv"));
  const auto j = nlohmann::json::parse(read_text(dir / kMemorizationJson));
  EXPECT_EQ(j["run"]["bf16_screen"]["compute"], "bf16");
  EXPECT_EQ(j["run"]["bf16_screen"]["rows_screened"], 192);
  EXPECT_NE(j["compute"]["backend"].get<std::string>().find("bf16 compute"), std::string::npos);
  const int rc = std::system((base + " --compute fp16 > /dev/null 2>&1").c_str());
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 2) << rc;
  // Token statistics need fp32 logits everywhere: refused with bf16 (usage error, exit 2).
  const int rs = std::system((base + " --revision step36 --compute bf16 --token-stats > /dev/null 2>&1").c_str());
  EXPECT_TRUE(WIFEXITED(rs) && WEXITSTATUS(rs) == 2) << rs;
  EXPECT_FALSE(fs::exists(tmp.path() / "mini-pythia" / "step36" / kMemorizationJson));
}

// The memory check before loading counts the calibration's caches and the bf16 copies.
TEST(Bf16Screen, ScreenedWorkload) {
  const pythia::model::Workload small = screened_workload({2 * 8, 64, "memorize: 2 blocks x 8 rows"});
  EXPECT_TRUE(small.bf16_copies);
  EXPECT_EQ(small.sequences, 2 * kCalibrationRows);  // 64 calibration rows, fast + exact caches
  EXPECT_EQ(small.positions, 64);
  EXPECT_NE(small.what.find("calibration of 64 rows x 2 models"), std::string::npos) << small.what;
  const pythia::model::Workload big = screened_workload({4 * 64, 64, "memorize: 4 blocks x 64 rows"});
  EXPECT_EQ(big.sequences, 256);
  EXPECT_EQ(big.what, "memorize: 4 blocks x 64 rows");
  EXPECT_TRUE(big.bf16_copies);
}

}  // namespace

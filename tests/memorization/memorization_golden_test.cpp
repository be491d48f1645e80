// End-to-end memorization scan on the vendored mini-pythia checkpoints and mini-pile memmaps,
// against the goldens of EleutherAI/pythia eval_memorization.py run with transformers 4.40.2
// (tests/fixtures/golden/mini-pythia/README.md): every row's score string must equal the golden
// CSV's. Also: output independent of threads and batch size, resume after SIGKILL, and
// sharded runs (--shard, mpirun) merged into the single-process files.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <tbb/global_control.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "data/gzip_stream.h"
#include "results/memorization_file.h"
#include "memorization/scan_job.h"
#include "model/gpt_neox.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
using namespace pythia::memorization;
using namespace pythia::results;


extern char** environ;

namespace {

const fs::path kFix = PYTHIA_FIXTURES_DIR;
const std::string kPile = (kFix / "mini-pile" / "document").string();
const std::string kProbe = (kFix / "mini-pile-probe" / "document").string();

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// index -> score text; golden CSVs have a header line.
std::vector<std::pair<std::string, std::string>> parse_csv(const std::string& text, bool header) {
  std::vector<std::pair<std::string, std::string>> rows;
  std::istringstream in(text);
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (first && header) {
      EXPECT_EQ(line, "index,score");
      first = false;
      continue;
    }
    first = false;
    if (line.empty()) continue;
    const auto c = line.find(',');
    rows.emplace_back(line.substr(0, c), line.substr(c + 1));
  }
  return rows;
}

// Compares our CSV with a golden one row by row; prints agreement and the first mismatch.
void expect_csv_equal(const fs::path& ours, const fs::path& golden, const std::string& what) {
  const auto a = parse_csv(pythia::data::read_whole_file(ours), false);
  const auto g = parse_csv(read_text(golden), true);
  ASSERT_EQ(a.size(), g.size()) << what << ": row count";
  std::size_t equal = 0, first_bad = a.size();
  std::set<std::string> mem_a, mem_g;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] == g[i]) ++equal;
    else if (first_bad == a.size()) first_bad = i;
    if (a[i].second == "1.0") mem_a.insert(a[i].first);
    if (g[i].second == "1.0") mem_g.insert(g[i].first);
  }
  std::printf("%s: %zu/%zu rows equal to the golden; memorized %zu (golden %zu)\n", what.c_str(), equal,
              a.size(), mem_a.size(), mem_g.size());
  if (first_bad < a.size()) {
    ADD_FAILURE() << what << ": first mismatch at line " << first_bad << ": ours " << a[first_bad].first << ","
                  << a[first_bad].second << " golden " << g[first_bad].first << "," << g[first_bad].second;
  }
  EXPECT_EQ(equal, a.size()) << what;
  EXPECT_EQ(mem_a, mem_g) << what << ": memorized sets";
}

nlohmann::json without_process_fields(const fs::path& json_path) {
  auto j = nlohmann::json::parse(read_text(json_path));
  j.erase("run");
  j.erase("timing");
  return j;
}

// Each test's scratch folder <temp>/memgolden_<tag>_<pid>, removed when the test ends.
class TempDir : public pythia::testing::ScopedTempDir {
 public:
  explicit TempDir(const std::string& tag) : ScopedTempDir("memgolden_" + tag) {}
};

std::unique_ptr<pythia::model::GptNeox> load_step(int step) {
  return pythia::model::load_gpt_neox(kFix / "mini-pythia" / ("step" + std::to_string(step)));
}

ScanPlan pile_options(const fs::path& out) {
  ScanPlan o;
  o.data = kPile;
  o.output = out.string();
  o.sequences_per_step = 16;
  o.progress = false;
  return o;
}

// Runs the harness binary; returns its pid (not waited for).
pid_t spawn(const std::vector<std::string>& argv_s, const std::vector<std::string>& extra_env = {}) {
  std::vector<char*> argv;
  for (const auto& s : argv_s) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) env_s.emplace_back(*e);
  for (const auto& e : extra_env) env_s.push_back(e);
  std::vector<char*> envp;
  for (auto& s : env_s) envp.push_back(s.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  EXPECT_EQ(rc, 0) << "cannot spawn " << argv_s[0];
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> memorize_argv(const fs::path& out, const std::vector<std::string>& extra) {
  std::vector<std::string> a = {PYTHIA_HARNESS_BIN, "memorize",  "--model", (kFix / "mini-pythia").string(),
                                "--revision",       "step36",    "--data",  kPile,
                                "--sequences-per-step", "16",    "--output", out.string(),
                                "--no-progress"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

TEST(MemorizationGolden, ScoresEqualGoldenCsvs) {
  TempDir tmp("golden");
  for (int step : {1, 12, 36}) {
    const auto lm = load_step(step);
    const std::string rev = "step" + std::to_string(step);
    ScanPlan o = pile_options(tmp.path());
    o.extended_csv = true;
    const MemorizeSummary s = run_memorize_job(*lm, "mini-pythia", rev, o);
    EXPECT_EQ(s.row_begin, 0u);
    EXPECT_EQ(s.row_end, 16u * static_cast<std::uint64_t>(step));
    const fs::path dir = tmp.path() / "mini-pythia" / rev;
    expect_csv_equal(dir / kScoresCsv, kFix / "golden/mini-pythia" / ("memorization_" + rev + ".csv"), rev);
    // The summary agrees with the golden summary's counts and mean.
    const auto golden = nlohmann::json::parse(read_text(kFix / "golden/mini-pythia/memorization_summary.json"));
    const auto& g = golden["checkpoints"][rev];
    const auto ours = nlohmann::json::parse(read_text(dir / kMemorizationJson));
    EXPECT_EQ(ours["rows_scanned"], g["rows_evaluated"]);
    EXPECT_EQ(ours["rows_memorized"], g["memorized_rows"]);
    EXPECT_NEAR(ours["mean_score"].get<double>(), g["mean_score"].get<double>(), 1e-12);
    EXPECT_EQ(ours["eod_policy"], "reference");
    EXPECT_EQ(ours["histogram"].size(), 33u);
    // min_margin (spec §5) vs the golden's smallest top-1/top-2 gap over the 32 greedy steps.
    const auto gen = nlohmann::json::parse(read_text(kFix / "golden/mini-pythia" / ("generations_" + rev + ".json")));
    std::istringstream ext(pythia::data::read_whole_file(dir / kExtendedCsv));
    std::string line;
    std::getline(ext, line);  // header
    double max_diff = 0.0;
    std::size_t n = 0, worst = 0;
    while (std::getline(ext, line)) {
      std::vector<std::string> f;
      std::stringstream ls(line);
      for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
      ASSERT_EQ(f.size(), 8u) << line;
      ASSERT_LT(n, gen["indices"].size());
      EXPECT_EQ(std::stoul(f[0]), gen["indices"][n].get<std::size_t>());
      const double d = std::abs(std::stod(f[4]) - gen["min_top1_minus_top2"][n].get<double>());
      if (d > max_diff) {
        max_diff = d;
        worst = n;
      }
      ++n;
    }
    EXPECT_EQ(n, gen["indices"].size());
    std::printf("%s: min_margin max abs diff vs golden min_top1_minus_top2 %.3g (row %zu)\n", rev.c_str(), max_diff, worst);
    EXPECT_LT(max_diff, 1e-4) << rev;
  }
}

TEST(MemorizationGolden, ProbeRowsEqualGoldenCsvs) {
  const auto probe = nlohmann::json::parse(read_text(kFix / "mini-pile-probe/probe.json"));
  const std::size_t rows = probe["rows"].size();
  ASSERT_EQ(rows, 96u);
  TempDir tmp("probe");
  for (int step : {12, 36}) {
    const auto lm = load_step(step);
    const std::string rev = "step" + std::to_string(step);
    ScanPlan o = pile_options(tmp.path());
    o.data = kProbe;
    o.start = 0;
    o.end = static_cast<std::int64_t>(rows);
    run_memorize_job(*lm, "mini-pythia", rev, o);
    const fs::path csv = tmp.path() / "mini-pythia" / rev / kScoresCsv;
    expect_csv_equal(csv, kFix / "golden/mini-pythia" / ("probe_memorization_" + rev + ".csv"), "probe " + rev);
    // The teacher-forced pass alone (memorized-only mode) finds the same memorized rows.
    o.score_mode = ScoreMode::kMemorizedOnly;
    o.output = (tmp.path() / "fast").string();
    run_memorize_job(*lm, "mini-pythia", rev, o);
    const auto exact = nlohmann::json::parse(read_text(tmp.path() / "mini-pythia" / rev / kMemorizationJson));
    const auto fast = nlohmann::json::parse(read_text(tmp.path() / "fast/mini-pythia" / rev / kMemorizationJson));
    EXPECT_EQ(exact["memorized_indices"], fast["memorized_indices"]) << rev;
    EXPECT_GT(fast["memorized_indices"].size(), 0u) << rev;
    if (rev == probe["built_from"]) {
      // The own-greedy rows are memorized by the checkpoint they were built from.
      const auto ours = parse_csv(pythia::data::read_whole_file(csv), false);
      for (const auto& r : probe["rows"]) {
        const auto i = r["row"].get<std::size_t>();
        if (r["kind"] == "own_greedy") {
          EXPECT_EQ(ours[i].second, "1.0") << "probe row " << i;
        }
        if (r["kind"] == "own_greedy_one_token_changed") {
          EXPECT_NE(ours[i].second, "1.0") << "probe row " << i;
        }
      }
    }
  }
}

TEST(MemorizationGolden, IndependentOfThreadsAndBatchSize) {
  TempDir tmp("det");
  const auto lm = load_step(36);
  ScanPlan o = pile_options(tmp.path());
  o.start = 0;
  o.end = 96;
  o.extended_csv = true;
  std::vector<fs::path> dirs;
  const std::vector<std::pair<int, int>> configs = {{1, 64}, {2, 64}, {2, 5}};
  for (const auto& [threads, batch] : configs) {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
    o.batch_size = batch;
    const std::string name = "t" + std::to_string(threads) + "b" + std::to_string(batch);
    o.output = (tmp.path() / name).string();
    run_memorize_job(*lm, "mini-pythia", "step36", o);
    dirs.push_back(tmp.path() / name / "mini-pythia" / "step36");
  }
  for (std::size_t k = 1; k < dirs.size(); ++k) {
    EXPECT_EQ(read_text(dirs[0] / kScoresCsv), read_text(dirs[k] / kScoresCsv)) << dirs[k];
    EXPECT_EQ(read_text(dirs[0] / kExtendedCsv), read_text(dirs[k] / kExtendedCsv)) << dirs[k];
    EXPECT_EQ(without_process_fields(dirs[0] / kMemorizationJson), without_process_fields(dirs[k] / kMemorizationJson));
  }
}

TEST(MemorizationGolden, ResumesAfterSigkill) {
  TempDir tmp("resume");
  // Reference: one uninterrupted in-process run.
  {
    const auto lm = load_step(36);
    ScanPlan o = pile_options(tmp.path() / "ref");
    o.start = 0;
    o.end = 160;
    o.batch_size = 4;
    run_memorize_job(*lm, "mini-pythia", "step36", o);
  }
  const fs::path out = tmp.path() / "killed";
  const auto argv = memorize_argv(out, {"--start", "0", "--end", "160", "--batch-size", "4", "--threads", "2"});
  const fs::path dir = out / "mini-pythia" / "step36";
  const fs::path journal = dir / "memorization.journal";
  // Slowed down (test-only env) so that the kill lands mid-scan: wait for >= 5 journalled blocks.
  const pid_t pid = spawn(argv, {"PYTHIA_MEMORIZE_TEST_BLOCK_DELAY_MS=150"});
  const std::uintmax_t block_bytes = 16 + 4 * 8 + 4;
  bool midway = false;
  for (int i = 0; i < 600 && !midway; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    // Journal: "PYMEMJ01" | u32 n | n config bytes | u32 crc, then blocks (memorization_journal.h).
    const std::string bytes = read_text(journal);
    if (bytes.size() < 12) continue;
    std::uint32_t n = 0;
    std::memcpy(&n, bytes.data() + 8, 4);
    if (bytes.size() >= 16 + n + 5 * block_bytes) midway = true;
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ::waitpid(pid, nullptr, 0);
  ASSERT_TRUE(midway) << "the scan never got going";
  ASSERT_TRUE(fs::exists(journal));
  ASSERT_FALSE(fs::exists(dir / kMemorizationJson)) << "killed too late: the scan had finished";
  // Re-run with the same arguments: resumes and produces the same files.
  ASSERT_EQ(wait_exit(spawn(argv)), 0);
  const fs::path ref = tmp.path() / "ref" / "mini-pythia" / "step36";
  EXPECT_FALSE(fs::exists(journal));
  EXPECT_EQ(read_text(ref / kScoresCsv), read_text(dir / kScoresCsv));
  // The command line records the weights' identity; the in-process reference was given none.
  auto resumed = without_process_fields(dir / kMemorizationJson);
  EXPECT_TRUE(resumed.contains("model_identity"));
  resumed.erase("model_identity");
  EXPECT_EQ(without_process_fields(ref / kMemorizationJson), resumed);
  const auto j = nlohmann::json::parse(read_text(dir / kMemorizationJson));
  EXPECT_GT(j["run"]["rows_resumed"].get<int>(), 0);
  EXPECT_LT(j["run"]["rows_resumed"].get<int>(), 160);
  std::printf("resume: %d of 160 rows came from the killed run's journal\n", j["run"]["rows_resumed"].get<int>());
  // Another run with other arguments into the finished folder is refused; the same one is a no-op.
  EXPECT_EQ(wait_exit(spawn(argv)), 0);
  auto other = argv;
  other.push_back("--tau");
  other.push_back("0.5");
  EXPECT_EQ(wait_exit(spawn(other)), 2);
}

// Shards written with --shard (and, when Open MPI's mpirun exists, by mpirun -np 2) merge into
// the single-process files.
TEST(MemorizationGolden, ShardsMergeIntoSingleRunFiles) {
  TempDir tmp("shards");
  const std::vector<std::string> range = {"--start", "0", "--end", "60", "--extended-csv", "--threads", "1"};
  ASSERT_EQ(wait_exit(spawn(memorize_argv(tmp.path() / "single", range))), 0);
  const fs::path single = tmp.path() / "single" / "mini-pythia" / "step36";

  auto check_merged = [&](const fs::path& root, std::size_t n) {
    const fs::path dir = root / "mini-pythia" / "step36";
    for (std::size_t k = 0; k < n; ++k) {
      ASSERT_TRUE(fs::exists(dir / ("shard-" + std::to_string(k) + "-of-" + std::to_string(n)) / kMemorizationJson));
    }
    ASSERT_EQ(wait_exit(spawn({PYTHIA_HARNESS_BIN, "merge", dir.string()})), 0);
    EXPECT_EQ(read_text(single / kScoresCsv), read_text(dir / kScoresCsv));
    EXPECT_EQ(read_text(single / kExtendedCsv), read_text(dir / kExtendedCsv));
    EXPECT_EQ(without_process_fields(single / kMemorizationJson), without_process_fields(dir / kMemorizationJson));
  };

  const fs::path manual = tmp.path() / "manual";
  for (int k = 0; k < 3; ++k) {
    auto a = range;
    a.push_back("--shard");
    a.push_back(std::to_string(k) + "/3");
    ASSERT_EQ(wait_exit(spawn(memorize_argv(manual, a))), 0);
  }
  check_merged(manual, 3);

  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "mpirun not found: the mpirun variant was not run";
  }
  const fs::path mpi = tmp.path() / "mpi";
  std::vector<std::string> a = {"mpirun", "-np", "2", "--oversubscribe"};
  if (::geteuid() == 0) a.push_back("--allow-run-as-root");
  for (const auto& s : memorize_argv(mpi, range)) a.push_back(s);
  ASSERT_EQ(wait_exit(spawn(a)), 0);
  check_merged(mpi, 2);
}

}  // namespace

// `pythia-harness sweep` (eval of 3 tasks + memorization) over the 3 bundled mini-pythia checkpoints: a sweep killed midway
// (SIGKILL) and re-run finishes with the same files as an uninterrupted one. Same files = the same
// set of paths; per-row scores (memorization_scores.csv.gz) byte-identical; memorization.json and
// eval results equal except the keys that describe the process (run, timing, date, evaluation
// time); and `pythia-harness compare` finds every value equal.
#include <gtest/gtest.h>
#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "results/results_reader.h"
#include "tests/test_util.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kFixtures = PYTHIA_FIXTURES_DIR;

std::vector<std::string> sweep_args(const fs::path& out) {
  return {PYTHIA_HARNESS_BIN,
          "sweep",
          "--model", (kFixtures / "mini-pythia").string(),
          "--revisions", "all",
          "--tasks", "piqa,winogrande,wikitext",
          "--limit", "60",
          "--data-dir", (kFixtures / "tasks").string(),
          "--tokenizer", (kFixtures / "tokenizer" / "20B_tokenizer.json.gz").string(),
          "--memorize",
          "--data", (kFixtures / "mini-pile" / "document").string(),
          "--sequences-per-step", "16",
          "--batch-size", "16",
          "--threads", "2",
          "--output", out.string()};
}

pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::set<std::string> files_under(const fs::path& root) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out.insert(fs::relative(e.path(), root).generic_string());
  }
  return out;
}

// Keys that describe the process, not the result.
json strip_process_keys(json j) {
  for (const char* k : {"run", "timing", "date", "total_evaluation_time_seconds", "start_time",
                        "end_time"}) {
    j.erase(k);
  }
  return j;
}

TEST(SweepResume, KilledMidwayThenRerunEqualsUninterrupted) {
  const fs::path root = fs::temp_directory_path() / ("pythia_sweep_resume_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  const fs::path full = root / "full", killed = root / "killed";

  const pid_t a = spawn(sweep_args(full), root / "full.log");
  ASSERT_GT(a, 0);
  ASSERT_EQ(wait_exit(a), 0) << slurp(root / "full.log");

  // Interrupted run: kill once the first checkpoint is complete and the next one has started.
  const pid_t b = spawn(sweep_args(killed), root / "killed1.log");
  ASSERT_GT(b, 0);
  const fs::path first_marker = killed / "mini-pythia" / "step1" / "sweep_complete.json";
  const fs::path second_dir = killed / "mini-pythia" / "step12";
  bool killed_midway = false;
  for (int i = 0; i < 6000; ++i) {
    if (fs::exists(first_marker) && fs::exists(second_dir)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      killed_midway = kill(b, SIGKILL) == 0;
      break;
    }
    int status = 0;
    if (waitpid(b, &status, WNOHANG) == b) break;  // finished before we could kill it
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (killed_midway) wait_exit(b);
  ASSERT_TRUE(killed_midway) << "the sweep finished before it could be interrupted";
  EXPECT_FALSE(fs::exists(killed / "mini-pythia" / "step36" / "sweep_complete.json"));

  const pid_t c = spawn(sweep_args(killed), root / "killed2.log");
  ASSERT_GT(c, 0);
  ASSERT_EQ(wait_exit(c), 0) << slurp(root / "killed2.log");
  const std::string log2 = slurp(root / "killed2.log");
  EXPECT_NE(log2.find("mini-pythia step1: already complete"), std::string::npos) << log2;

  // Same files.
  std::set<std::string> fa = files_under(full), fb = files_under(killed);
  EXPECT_EQ(fa, fb);
  int compared = 0;
  for (const std::string& rel : fa) {
    if (!fb.count(rel)) continue;
    const fs::path pa = full / rel, pb = killed / rel;
    if (rel.size() > 5 && rel.substr(rel.size() - 5) == ".json") {
      EXPECT_EQ(strip_process_keys(pythia::results::read_json_file(pa)),
                strip_process_keys(pythia::results::read_json_file(pb)))
          << rel;
    } else {
      EXPECT_TRUE(slurp(pa) == slurp(pb)) << rel << " differs";
    }
    ++compared;
  }
  EXPECT_GE(compared, 12) << [&] {
    std::string l;
    for (const auto& f : fa) l += f + "\n";
    return l;
  }();  

  // And compare agrees.
  const pythia::testing::CliRun cmp =
      pythia::testing::run_harness("compare " + full.string() + " " + killed.string());
  EXPECT_EQ(cmp.code, 0) << cmp.out;
  fs::remove_all(root);
}

}  // namespace

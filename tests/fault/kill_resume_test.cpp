// SIGKILL at many random points (fixed seeds, printed) of `memorize` and `sweep`, each kill
// followed by a resume on the same folder, then a run to completion: 0 rows lost, 0 rows
// duplicated, and files identical to an undisturbed run's (fault_util.h's comparison). After every
// kill, no finished file may be partial: what the folder holds is resume state, a temporary of the
// killed writer, or a file equal to the undisturbed run's. Complements the single-kill tests
// (memorization/memorization_golden_test.cpp ResumesAfterSigkill, harness/sweep_resume_slow_test).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include "data/gzip_stream.h"
#include "tests/fault/fault_util.h"

namespace {

using namespace pythia::fault_testing;
using Clock = std::chrono::steady_clock;

// Waits up to `ms`; kills the process with SIGKILL if it is still running. Returns -1 when it was
// killed, else its exit status.
int kill_after(pid_t pid, int ms) {
  const auto until = Clock::now() + std::chrono::milliseconds(ms);
  int status = 0;
  while (Clock::now() < until) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) ? -1 : (WIFEXITED(status) ? WEXITSTATUS(status) : -2);
}

// After a kill: every file is resume state, a killed writer's temporary, or equal to the reference.
void expect_no_partial_file(const fs::path& out, const std::map<std::string, std::string>& ref) {
  for (const auto& [rel, content] : snapshot(out)) {
    if (is_resume_state(rel) || pythia::data::is_atomic_temp_name(fs::path(rel).filename().string())) continue;
    const auto it = ref.find(rel);
    ASSERT_NE(it, ref.end()) << "unexpected file " << rel;
    EXPECT_TRUE(it->second == content) << rel << " is partial or differs after a kill";
  }
}

// The row indices of a memorization_scores.csv.gz, each checked to appear once, in order.
void expect_each_row_once(const fs::path& csv, std::uint64_t rows) {
  std::istringstream in(pythia::data::read_whole_file(csv));
  std::string line;
  std::uint64_t next = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] < '0' || line[0] > '9') continue;  // a header line
    const std::uint64_t index = std::stoull(line.substr(0, line.find(',')));
    ASSERT_EQ(index, next) << csv << ": row lost or duplicated";
    ++next;
  }
  EXPECT_EQ(next, rows) << csv;
}

struct KillFigures {
  int kills = 0, completions = 0, runs = 0;
  int kills_with_journal = 0;  // kills that left a memorization journal (mid-scan or writing outputs)
};

// Kill/resume sequences on `out`: each run is killed after a random time in [0, the undisturbed
// run's time] (some runs slowed by the memorize test hook so kills land between journal blocks)
// and resumed by the next; a run that completes first ends the sequence: its tree must equal
// `ref` (`check` adds the row checks), then the folder is emptied and a new sequence starts,
// until `kills` kills landed. A last sequence is then run to completion.
KillFigures kill_and_resume(const std::vector<std::string>& args, const fs::path& out, double ref_ms,
                            const std::map<std::string, std::string>& ref, unsigned seed, int kills,
                            const std::function<void()>& check) {
  // No new kill after this budget (the figures are printed). It scales with the undisturbed run's
  // time, so a slower build (ASan: 12 s runs) or a loaded machine still fits several kills: a kill
  // lands after ref_ms / 2 on average, so 8 x ref_ms fits ~10 kill/resume runs and completions.
  const auto budget = std::max(std::chrono::milliseconds(25000),
                               std::chrono::milliseconds(static_cast<long>(8 * ref_ms)));
  const auto budget_end = Clock::now() + budget;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> when(0, static_cast<int>(ref_ms));
  std::uniform_int_distribution<int> delay(0, 2);
  KillFigures f;
  fs::remove_all(out);
  for (bool last = false;;) {
    const int d = delay(rng) == 0 ? 15 : 0;
    const int ms = last ? 600000 : when(rng);
    const pid_t pid = start_harness(args, {"PYTHIA_MEMORIZE_TEST_BLOCK_DELAY_MS=" + std::to_string(d)});
    if (pid <= 0) {
      ADD_FAILURE() << "cannot start pythia-harness";
      return f;
    }
    ++f.runs;
    const int code = kill_after(pid, ms);
    SCOPED_TRACE("seed " + std::to_string(seed) + ", run " + std::to_string(f.runs) + ", kill at " +
                 std::to_string(ms) + " ms");
    if (code == -1) {
      ++f.kills;
      for (const auto& [rel, content] : snapshot(out)) {
        if (is_resume_state(rel)) {
          ++f.kills_with_journal;
          break;
        }
      }
      expect_no_partial_file(out, ref);
    } else {
      EXPECT_EQ(code, 0) << "a resumed run failed";
      ++f.completions;
      expect_same_tree(out, ref);
      check();
      if (last || f.kills >= kills || Clock::now() > budget_end) return f;
      fs::remove_all(out);
    }
    if (::testing::Test::HasFailure()) return f;
    last = f.kills >= kills || Clock::now() > budget_end;
  }
}

double timed_reference(const std::vector<std::string>& args, const fs::path& work,
                       std::map<std::string, std::string>& ref, const fs::path& out) {
  const auto t0 = Clock::now();
  const CliRun r = run_harness_fault(args, nullptr, work / "fault.log");
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  EXPECT_EQ(r.code, 0) << r.out;
  ref = snapshot(out);
  fs::remove_all(out);
  return ms;
}

TEST(KillResume, MemorizeKilledAtRandomPointsLosesAndRepeatsNoRow) {
  const fs::path work = pythia::testing::fresh_temp_dir("fault_kill_memorize");
  const fs::path out = work / "out";
  const std::vector<std::string> args = {
      "memorize", "--model", (kFix / "mini-pythia").string(), "--revision", "step36", "--data",
      (kFix / "mini-pile" / "document").string(), "--sequences-per-step", "16", "--start", "0", "--end", "128",
      "--batch-size", "4", "--threads", "2", "--no-progress", "--output", out.string()};
  std::map<std::string, std::string> ref;
  const double ms = timed_reference(args, work, ref, out);
  for (unsigned seed : {1u, 2u}) {
    const KillFigures f = kill_and_resume(args, out, ms, ref, seed, 10, [&] {
      expect_each_row_once(out / "mini-pythia" / "step36" / "memorization_scores.csv.gz", 128);
    });
    std::printf("memorize seed %u: %d SIGKILLs (%d left a journal), %d runs, %d completed resume sequences; "
                "reference %.0f ms\n", seed, f.kills, f.kills_with_journal, f.runs, f.completions, ms);
    EXPECT_GE(f.kills, 3);
  }
  fs::remove_all(work);
}

TEST(KillResume, SweepKilledAtRandomPointsEndsWithTheUndisturbedFiles) {
  const fs::path work = pythia::testing::fresh_temp_dir("fault_kill_sweep");
  const fs::path out = work / "out";
  const std::vector<std::string> args = {
      "sweep", "--model", (kFix / "mini-pythia").string(), "--revisions", "all", "--tasks", "piqa", "--limit", "10",
      "--data-dir", (kFix / "tasks").string(), "--tokenizer", (kFix / "tokenizer" / "20B_tokenizer.json.gz").string(),
      "--memorize", "--data", (kFix / "mini-pile" / "document").string(), "--sequences-per-step", "4",
      "--batch-size", "8", "--threads", "2", "--no-progress", "--output", out.string()};
  std::map<std::string, std::string> ref;
  const double ms = timed_reference(args, work, ref, out);
  const KillFigures f = kill_and_resume(args, out, ms, ref, 7u, 8, [&] {
    for (const auto& [step, rows] : {std::pair{"step1", 4}, {"step12", 48}, {"step36", 144}}) {
      expect_each_row_once(out / "mini-pythia" / step / "memorization_scores.csv.gz", rows);
    }
  });
  std::printf("sweep seed 7: %d SIGKILLs (%d left a journal), %d runs, %d completed resume sequences; "
              "reference %.0f ms\n", f.kills, f.kills_with_journal, f.runs, f.completions, ms);
  EXPECT_GE(f.kills, 3);
  fs::remove_all(work);
}

}  // namespace

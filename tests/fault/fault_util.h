// Shared by the fault tests (tests/fault/*_test.cpp): run `pythia-harness` under the LD_PRELOAD
// shim (fault_inject.c, path in PYTHIA_FAULT_SHIM), snapshot result trees, and the checks every
// fault case makes:
//   after the failing run   exit code as expected, stderr names the file and the errno text, the
//                           shim's log shows the fault fired, no atomic temporary left, and every
//                           file present is either resume state (journals) or equal to the
//                           undisturbed run's file (no partial or corrupt finished file);
//   after the re-run        exit 0 and the tree equal to the undisturbed run's.
// "Equal": byte-identical, except JSON files, compared after dropping the keys that describe the
// process rather than the result, at any depth: run, timing (memorization.json: threads, host,
// rows_resumed, seconds), date, total_evaluation_time_seconds, start_time, end_time (eval).
// Every run happens in the same folder (the reference is moved aside), so recorded paths agree.
// FaultCase is the fixture of the command tests (work folder + the undisturbed reference run).
// Header-only; REQUIRES PYTHIA_HARNESS_BIN, PYTHIA_FAULT_SHIM, PYTHIA_FIXTURES_DIR.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/atomic_file.h"
#include "tests/test_util.h"

extern "C" char** environ;

namespace pythia::fault_testing {

namespace fs = std::filesystem;
using pythia::testing::CliRun;

inline const fs::path kFix = PYTHIA_FIXTURES_DIR;

// One injected fault (fault_inject.c): calls `ops` on paths containing `path` fail with `err`
// from the `nth` matching call on (0: every call), or once `after_bytes` bytes went through.
struct Fault {
  std::string path;
  std::string ops = "write";
  std::string err = "ENOSPC";
  long long nth = 0;
  long long after_bytes = -1;
  std::string describe() const {
    return ops + " " + err + " on *" + path + "* " +
           (after_bytes >= 0 ? "after " + std::to_string(after_bytes) + " bytes" : "call " + std::to_string(nth));
  }
};

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline std::string join_args(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += " " + shell_quote(a);
  return s;
}

// Runs `pythia-harness args` (stdout discarded, stderr captured), under `fault` when given (its
// injections logged to `log`). ASan's link-order check is off: the shim is preloaded first.
inline CliRun run_harness_fault(const std::vector<std::string>& args, const Fault* fault,
                                const fs::path& log, const std::string& extra_env = "") {
  std::string env = "env ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0\" " + extra_env;
  if (fault != nullptr) {
    env += " LD_PRELOAD=" + shell_quote(PYTHIA_FAULT_SHIM) + " PYTHIA_FAULT_PATH=" + shell_quote(fault->path) +
           " PYTHIA_FAULT_OPS=" + fault->ops + " PYTHIA_FAULT_ERRNO=" + fault->err +
           " PYTHIA_FAULT_LOG=" + shell_quote(log.string());
    if (fault->after_bytes >= 0) env += " PYTHIA_FAULT_AFTER_BYTES=" + std::to_string(fault->after_bytes);
    if (fault->nth > 0) env += " PYTHIA_FAULT_NTH=" + std::to_string(fault->nth);
  }
  return pythia::testing::run_shell(env + " " + shell_quote(PYTHIA_HARNESS_BIN) + join_args(args) +
                                    " 2>&1 >/dev/null");
}

inline void drop_process_keys(nlohmann::json& j) {
  if (j.is_object()) {
    for (const char* k : {"run", "timing", "date", "total_evaluation_time_seconds", "start_time", "end_time"}) {
      j.erase(k);
    }
    for (auto& [k, v] : j.items()) drop_process_keys(v);
  } else if (j.is_array()) {
    for (auto& v : j) drop_process_keys(v);
  }
}

// Starts `pythia-harness args` in the background with `env_extra` ("K=V" entries) added to the
// environment, stdout to /dev/null and stderr to `log` (/dev/null when empty). -1 on failure.
inline pid_t start_harness(const std::vector<std::string>& args, const std::vector<std::string>& env_extra,
                           const fs::path& log = {}) {
  std::vector<std::string> all = {PYTHIA_HARNESS_BIN};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv, envp;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env(env_extra);
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, log.empty() ? "/dev/null" : log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

// The comparable content of a file: JSON without the process keys, anything else as bytes.
inline std::string comparable(const fs::path& p) {
  const std::string bytes = pythia::testing::read_bytes(p);
  if (p.extension() != ".json") return bytes;
  auto j = nlohmann::json::parse(bytes, nullptr, false);
  if (j.is_discarded()) return "<not JSON>" + bytes;  // a torn JSON file differs from any good one
  drop_process_keys(j);
  return j.dump();
}

// relative path -> comparable content, for every regular file under root.
inline std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), root).generic_string()] = comparable(e.path());
  }
  return out;
}

// Resume state a failed or killed run may leave (the next run picks it up).
inline bool is_resume_state(const std::string& rel) {
  const std::string name = fs::path(rel).filename().string();
  return name == "memorization.journal" || name == "memorization_token_stats.partial";
}

// The checks after a failing run (see the header comment).
inline void expect_clean_failure(const CliRun& r, int want_code, const std::string& names_file,
                                 const std::string& errno_text, const fs::path& log,
                                 const fs::path& out, const std::map<std::string, std::string>& ref) {
  EXPECT_EQ(r.code, want_code) << r.out;
  EXPECT_NE(r.out.find(names_file), std::string::npos) << "the error does not name " << names_file << ":\n" << r.out;
  EXPECT_NE(r.out.find(errno_text), std::string::npos) << r.out;
  EXPECT_FALSE(pythia::testing::read_bytes(log).empty()) << "the fault never fired";
  EXPECT_EQ(r.out.find("internal error"), std::string::npos) << r.out;
  for (const auto& [rel, content] : snapshot(out)) {
    EXPECT_FALSE(pythia::data::is_atomic_temp_name(fs::path(rel).filename().string())) << "temporary left: " << rel;
    if (is_resume_state(rel) || pythia::data::is_atomic_temp_name(fs::path(rel).filename().string())) continue;
    const auto it = ref.find(rel);
    ASSERT_NE(it, ref.end()) << "unexpected file " << rel;
    EXPECT_TRUE(it->second == content) << rel << " is partial or differs from the undisturbed run's";
  }
}

// Every file of `ref` and nothing else under `out`, with equal content.
inline void expect_same_tree(const fs::path& out, const std::map<std::string, std::string>& ref) {
  const auto got = snapshot(out);
  std::set<std::string> a, b;
  for (const auto& [k, v] : ref) a.insert(k);
  for (const auto& [k, v] : got) b.insert(k);
  ASSERT_EQ(a, b);
  for (const auto& [rel, content] : ref) EXPECT_TRUE(got.at(rel) == content) << rel << " differs";
}

// One fault case end to end: run `args` under `fault` into `out` (removed first unless
// `keep_out`), check the failure, re-run without the fault, check the tree equals `ref`.
inline void fault_then_rerun(const std::vector<std::string>& args, const Fault& fault, int want_code,
                             const std::string& names_file, const fs::path& work, const fs::path& out,
                             const std::map<std::string, std::string>& ref, bool keep_out = false) {
  SCOPED_TRACE(fault.describe());
  if (!keep_out) fs::remove_all(out);
  const fs::path log = work / "fault.log";
  fs::remove(log);
  const CliRun r = run_harness_fault(args, &fault, log);
  const std::string text = fault.err == "EIO" ? "Input/output error" : "No space left on device";
  expect_clean_failure(r, want_code, names_file, text, log, out, ref);
  const CliRun again = run_harness_fault(args, nullptr, log);
  ASSERT_EQ(again.code, 0) << again.out;
  expect_same_tree(out, ref);
}

// Fixture of the command fault tests: a fresh work folder <temp>/<prefix>_<pid> per test (removed
// after it), out_ = work_/out, and the undisturbed run each test compares its fault cases with.
class FaultCase : public ::testing::Test {
 protected:
  explicit FaultCase(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override {
    work_ = pythia::testing::fresh_temp_dir(prefix_);
    out_ = work_ / "out";
  }
  void TearDown() override { fs::remove_all(work_); }

  // Runs `args` without a fault (exit 0 expected), snapshots `out` and removes it, so that every
  // later run writes the same paths.
  std::map<std::string, std::string> reference(const std::vector<std::string>& args, const fs::path& out) {
    const CliRun r = run_harness_fault(args, nullptr, work_ / "fault.log");
    EXPECT_EQ(r.code, 0) << r.out;
    auto ref = snapshot(out);
    fs::remove_all(out);
    return ref;
  }

  std::string prefix_;
  fs::path work_, out_;
};

}  // namespace pythia::fault_testing

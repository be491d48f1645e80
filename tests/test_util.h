// Shared by the test binaries that run the built `pythia-harness` executable as a user would
// (header-only; tests/CMakeLists.txt builds one binary per *_test.cpp and defines
// PYTHIA_HARNESS_BIN for each). REQUIRES: PYTHIA_HARNESS_BIN defined (all tests have it).
// Not thread-safe across tests that share temp folder names; each call blocks until the child ends.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace pythia::testing {

// What a command run produced: its exit status (-1 if it did not exit normally, e.g. killed by a
// signal, or could not be started) and everything it wrote to stdout (and stderr when the command
// redirects it there).
struct CliRun {
  int code = -1;
  std::string out;
};

// Runs `cmd` with /bin/sh (popen) and captures its stdout byte for byte.
inline CliRun run_shell(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, ""};
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// Runs `pythia-harness <args>` (args as shell words, quoted by the caller where needed), stdout
// and stderr captured together in `out`.
inline CliRun run_harness(const std::string& args) {
  return run_shell(std::string(PYTHIA_HARNESS_BIN) + " " + args + " 2>&1");
}

// Runs `pythia-harness <args>` with stdout discarded; `out` holds what it wrote to stderr.
inline CliRun run_harness_stderr(const std::string& args) {
  return run_shell(std::string(PYTHIA_HARNESS_BIN) + " " + args + " 2>&1 >/dev/null");
}

// The bytes of a file ("" when it cannot be read).
inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh empty folder <temp>/<prefix>_<pid> (removed first if it exists).
inline std::filesystem::path fresh_temp_dir(const std::string& prefix) {
  const std::filesystem::path d =
      std::filesystem::temp_directory_path() / (prefix + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// fresh_temp_dir(prefix) for the lifetime of the object: removed (with its contents) on
// destruction. One per test; two live objects with the same prefix would share the folder.
class ScopedTempDir {
 public:
  explicit ScopedTempDir(const std::string& prefix) : path_(fresh_temp_dir(prefix)) {}
  ~ScopedTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace pythia::testing

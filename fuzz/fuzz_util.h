// Shared helpers of the libFuzzer targets (fuzz/fuzz_*.cpp).
//
// Contract checked by every target: a parser fed arbitrary bytes either succeeds or throws the
// project's documented error type (pythia::DataError / UsageError, results::ResultsFileError).
// Any other exception escapes LLVMFuzzerTestOneInput, terminates the process and is reported
// by libFuzzer as a crash, like ASan/UBSan reports, leaks, timeouts and OOMs.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "data/error.h"

namespace pythia::fuzz {

// A per-process scratch folder for parsers that only read files: /dev/shm (RAM) when it exists,
// else the system temp dir. Each fuzzer process (also under -fork/-jobs) has its own, so parallel
// runs never share files. Removed at exit when libFuzzer lets atexit handlers run (it often ends
// with _Exit), so each new process also removes the folders of processes that no longer exist.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::error_code ec;
    std::filesystem::path base = "/dev/shm";
    if (!std::filesystem::is_directory(base, ec)) base = std::filesystem::temp_directory_path();
    const std::string prefix = "pythia-fuzz-";
    for (const auto& e : std::filesystem::directory_iterator(base, ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind(prefix, 0) != 0) continue;
      const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
      if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
        std::filesystem::remove_all(e.path(), ec);
      }
    }
    auto d = base / (prefix + std::to_string(::getpid()));
    std::filesystem::remove_all(d, ec);
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ec2;
      std::filesystem::remove_all(scratch_dir(), ec2);
    });
    return d;
  }();
  return dir;
}

// Writes `bytes` to `path` (truncating), creating parent folders.
inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) std::abort();  // scratch space full: not a finding, but never silently go on
}

// Empties the scratch folder (between inputs, so files of one input never leak into the next).
inline void clear_scratch() {
  for (const auto& e : std::filesystem::directory_iterator(scratch_dir())) {
    std::filesystem::remove_all(e.path());
  }
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}
inline std::span<const std::byte> as_bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}

// Splits `s` at every occurrence of `sep` (the pieces between them, possibly empty).
inline std::vector<std::string_view> split(std::string_view s, std::string_view sep) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  for (;;) {
    const auto hit = s.find(sep, pos);
    if (hit == std::string_view::npos) {
      out.push_back(s.substr(pos));
      return out;
    }
    out.push_back(s.substr(pos, hit - pos));
    pos = hit + sep.size();
  }
}

// PYTHIA_FUZZ_VERBOSE=1 prints every expected error (to see why a seed is refused).
inline void note_error(const std::exception& e) {
  static const bool verbose = std::getenv("PYTHIA_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "expected error: %s\n", e.what());
}

// Runs fn(), swallowing only the project's documented input errors.
template <class F>
void expect_clean(F&& fn) {
  try {
    std::forward<F>(fn)();
  } catch (const pythia::DataError& e) {
    note_error(e);
  } catch (const pythia::UsageError& e) {
    note_error(e);
  }
}

// Reads every byte of `bytes` so that ASan checks the span really lies in live memory.
inline std::uint64_t touch(std::span<const std::byte> bytes) {
  std::uint64_t sum = 0;
  for (const std::byte b : bytes) sum += static_cast<std::uint64_t>(b);
  return sum;
}

}  // namespace pythia::fuzz

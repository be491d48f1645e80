// Shared by the bench_*.cpp programs (header-only: bench/CMakeLists.txt builds every bench_*.cpp
// as its own program): the machine header every benchmark prints before its figures (git commit,
// CPU model, thread counts, OpenBLAS build, load average; CONTRIBUTING.md), and small
// timing / shell helpers. REQUIRES: the compile definition PYTHIA_SOURCE_DIR (set by
// bench/CMakeLists.txt). Not thread-safe (popen, stdout).
#pragma once

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <tbb/info.h>

#include "model/gemm.h"

namespace pythia::bench {

// stdout of `cmd` run by /bin/sh, trailing newlines and spaces removed ("" if it cannot run).
inline std::string run_cmd(const std::string& cmd) {
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[256];
    while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// "model name" of the first CPU in /proc/cpuinfo, or "unknown".
inline std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// Short commit of the source tree the benchmark was built from.
inline std::string git_commit() {
  return run_cmd(std::string("git -C ") + PYTHIA_SOURCE_DIR + " rev-parse --short HEAD");
}

// "a,b,c" -> {"a", "b", "c"} (flag values such as --threads 1,2; no trimming).
inline std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ',')) v.push_back(x);
  return v;
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Prints, on stdout:
//   <bench>: commit C, CPU M, H hardware threads, TBB default concurrency T[, <note>]
//   BLAS: <openblas_get_config(), core, threads>
//   load average: <1, 5, 15 min>
// `note` says how the benchmark uses threads / BLAS (e.g. "benchmark threads 1").
inline void print_machine_header(std::string_view bench, std::string_view note = {}) {
  std::printf("%.*s: commit %s, CPU %s, %u hardware threads, TBB default concurrency %d%s%.*s\n",
              static_cast<int>(bench.size()), bench.data(), git_commit().c_str(),
              cpu_model().c_str(), std::thread::hardware_concurrency(),
              tbb::info::default_concurrency(), note.empty() ? "" : ", ",
              static_cast<int>(note.size()), note.data());
  std::printf("BLAS: %s\n", pythia::model::blas_config().c_str());
  std::printf("load average: %s\n", run_cmd("cut -d' ' -f1-3 /proc/loadavg").c_str());
}

}  // namespace pythia::bench

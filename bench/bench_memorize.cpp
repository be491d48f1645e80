// Memorization-scan throughput (sequences/s) of the whole `memorize` job path (memmap read ->
// teacher-forced forward -> decode from the first mismatch -> journal -> csv.gz/json) on the
// pythia-70m and pythia-160m shapes with random weights, on real text rows (the vendored mini-pile
// memmap), at 1 and 2 threads, in both modes:
//   exact           eval_memorization.py's fractional score (decoding after the first mismatch;
//                   with random weights nearly every row mismatches at t = 32, the worst case)
//   memorized-only  the teacher-forced pass alone (decides score == 1)
// Anchors (perf-anchors.md §2, §5-6, 2 threads, fp32, same machine type): HF generate without
// cache 1.00 / 0.39 seq/s (as eval_memorization.py), with cache 13.4 / 5.3, HF teacher-forced
// 23.5 / 9.2, llama.cpp batched 20.2 / 7.1; goals: exact >= 25 / 8, memorized-only >= 35 / 11.
//
// Usage: bench_memorize [--rows N] [--batch B] [--models 70m,160m] [--threads 1,2]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

#include "harness/memorize_job.h"
#include "harness/threading.h"
#include "model/gemm.h"
#include "model/gpt_neox.h"

namespace {

namespace fs = std::filesystem;
using pythia::model::GptNeox;
using pythia::model::NeoxConfig;

std::string run_cmd(const std::string& cmd) {
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[256];
    while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// Process CPU seconds (user + system, all threads).
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ',')) v.push_back(x);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  int rows = 64, batch = 64;
  std::vector<std::string> models = {"70m", "160m"};
  std::vector<int> thread_counts = {1, 2};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rows" && i + 1 < argc) rows = std::max(1, std::atoi(argv[++i]));
    else if (a == "--batch" && i + 1 < argc) batch = std::max(1, std::atoi(argv[++i]));
    else if (a == "--models" && i + 1 < argc) models = split(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) {
      thread_counts.clear();
      for (const auto& t : split(argv[++i])) thread_counts.push_back(std::atoi(t.c_str()));
    } else {
      std::fprintf(stderr, "usage: bench_memorize [--rows N] [--batch B] [--models 70m,160m] [--threads 1,2]\n");
      return 2;
    }
  }
  pythia::model::use_single_threaded_blas();
  std::printf("bench_memorize  commit %s  CPU %s\nBLAS: %s\n",
              run_cmd(std::string("git -C ") + PYTHIA_SOURCE_DIR + " rev-parse --short HEAD").c_str(),
              cpu_model().c_str(), pythia::model::blas_config().c_str());
  std::printf("%d rows of tests/fixtures/mini-pile (real text), batch %d, random weights, fp32\n\n", rows, batch);

  const fs::path tmp = fs::temp_directory_path() / ("bench_memorize_" + std::to_string(::getpid()));
  std::printf("seq/cpu-s = sequences per CPU-second of this process (robust to other load on a shared\n"
              "machine); seq/s x threads / (seq/cpu-s) = the cores actually obtained.\n\n");
  std::printf("%-6s %-8s %-15s %10s %10s %11s\n", "model", "threads", "mode", "seq/s", "seconds", "seq/cpu-s");
  for (const auto& name : models) {
    NeoxConfig c;  // pythia-70m's shape by default
    if (name == "160m") {
      c.hidden_size = 768;
      c.num_hidden_layers = 12;
      c.num_attention_heads = 12;
      c.intermediate_size = 3072;
    } else if (name != "70m") {
      std::fprintf(stderr, "unknown model %s (70m, 160m)\n", name.c_str());
      return 2;
    }
    const auto lm = GptNeox::random(c, 1234);
    for (const int threads : thread_counts) {
      pythia::harness::ThreadSetup ts(threads);
      for (const bool memorized_only : {false, true}) {
        pythia::harness::MemorizeOptions o;
        o.data = std::string(PYTHIA_SOURCE_DIR) + "/tests/fixtures/mini-pile/document";
        o.output = tmp.string();
        o.start = 0;
        o.end = rows;
        o.batch_size = batch;
        o.memorized_only = memorized_only;
        o.checksums = "none";
        o.progress = false;
        fs::remove_all(tmp);
        const double cpu0 = cpu_seconds();
        const auto s = pythia::harness::run_memorize_job(*lm, "pythia-" + name, "bench", o);
        const double cpu = cpu_seconds() - cpu0;
        std::printf("%-6s %-8d %-15s %10.2f %10.2f %11.2f\n", name.c_str(), threads,
                    memorized_only ? "memorized-only" : "exact", static_cast<double>(s.rows_computed) / s.seconds,
                    s.seconds, static_cast<double>(s.rows_computed) / cpu);
        std::fflush(stdout);
      }
    }
  }
  fs::remove_all(tmp);
  std::printf("\nanchors (2 threads): HF no-cache 1.00 / 0.39 seq/s, HF cache 13.4 / 5.3, HF teacher-forced "
              "23.5 / 9.2, llama.cpp batched 20.2 / 7.1 (70m / 160m)\n");
  return 0;
}

// bench_analyze: `analyze` (memorization/cross_checkpoint.h) on a synthetic large sweep tree
// generated here (not vendored): --scans checkpoints of one model, checkpoint c scanning rows
// [0, rows * (c+1) / scans), a row memorized with probability --rate (correlated across steps:
// once memorized, kept with probability 0.9). Prints generation time, analysis time, score lines
// per second, peak RSS of the analysis (VmHWM reset through /proc/self/clear_refs) and the
// estimate_analysis_memory() (memorization/analysis_memory.h).
//   bench_analyze [--scans 16] [--rows 2000000] [--rate 0.02] [--threads 1,2] [--dir /tmp/...]
#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <tbb/global_control.h>

#include "bench/bench_common.h"
#include "data/gzip_stream.h"
#include "memorization/analysis_memory.h"
#include "memorization/cross_checkpoint.h"

namespace fs = std::filesystem;
using namespace pythia;

namespace {

long vm_hwm_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

void reset_hwm() { std::ofstream("/proc/self/clear_refs") << "5"; }

}  // namespace

int main(int argc, char** argv) {
  int scans = 16;
  std::uint64_t rows = 2000000;
  double rate = 0.02;
  std::string threads_arg = "1,2";
  fs::path dir = fs::temp_directory_path() / ("bench_analyze_" + std::to_string(::getpid()));
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string f = argv[i], v = argv[i + 1];
    if (f == "--scans") scans = std::stoi(v);
    else if (f == "--rows") rows = std::stoull(v);
    else if (f == "--rate") rate = std::stod(v);
    else if (f == "--threads") threads_arg = v;
    else if (f == "--dir") dir = v;
    else { std::fprintf(stderr, "unknown flag %s\n", f.c_str()); return 2; }
  }
  bench::print_machine_header("bench_analyze");
  fs::remove_all(dir);
  const auto t0 = std::chrono::steady_clock::now();
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::uint8_t> mem(rows, 0);  // generator state only (freed before the analysis)
  std::uint64_t lines = 0, memorized_total = 0;
  for (int c = 0; c < scans; ++c) {
    const std::uint64_t n = rows * static_cast<std::uint64_t>(c + 1) / static_cast<std::uint64_t>(scans);
    const fs::path d = dir / "synthetic" / ("step" + std::to_string(c + 1));
    fs::create_directories(d);
    data::AtomicGzipWriter w(d / "memorization_scores.csv.gz");
    std::string buf;
    std::uint64_t m = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
      mem[i] = mem[i] ? (u(rng) < 0.9) : (u(rng) < rate);
      m += mem[i];
      buf += std::to_string(i);
      buf += mem[i] ? ",1.0\n" : ",0.5\n";
      if (buf.size() > (1 << 16)) { w.write(buf); buf.clear(); }
    }
    w.write(buf);
    w.commit();
    lines += n;
    memorized_total += m;
    std::ofstream(d / "memorization.json")
        << "{\"model\":\"synthetic\",\"revision\":\"step" << c + 1 << "\",\"step\":" << c + 1
        << ",\"data\":{\"prefix\":\"/x/document\"},\"row_range\":[0," << n << "],\"rows_scanned\":" << n
        << ",\"rows_memorized\":" << m << "}";
  }
  std::vector<std::uint8_t>().swap(mem);
  std::printf("generated %d scans, %llu score lines, %llu memorized rows in %.1f s under %s\n", scans,
              static_cast<unsigned long long>(lines), static_cast<unsigned long long>(memorized_total),
              bench::seconds_since(t0), dir.c_str());
  memorization::AnalysisOptions opt;
  opt.progress = false;
  std::printf("memory estimate estimate_analysis_memory({%d}, block rows %llu) = %.1f MiB (document included)\n",
              scans, static_cast<unsigned long long>(opt.block_rows),
              memorization::estimate_analysis_memory({static_cast<std::size_t>(scans)}, opt, false).total() / 1048576.0);
  for (const std::string& t : bench::split_commas(threads_arg)) {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, std::stoi(t));
    reset_hwm();
    const long before = vm_hwm_kib();
    const auto t1 = std::chrono::steady_clock::now();
    const auto doc = memorization::analyze_tree(dir, opt);
    const double s = bench::seconds_since(t1);
    const long after = vm_hwm_kib();
    std::printf("threads %s: %.2f s, %.1f M score lines/s, %zu pairs, peak RSS %.1f MiB (before %.1f MiB)\n",
                t.c_str(), s, lines / s / 1e6, doc["groups"][0]["pairs"].size(), after / 1024.0, before / 1024.0);
  }
  fs::remove_all(dir);
  return 0;
}

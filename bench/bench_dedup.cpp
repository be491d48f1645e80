// bench_dedup: `dedup-count` (memorization/dedup_count.h) throughput on a synthetic preshuffled
// memmap generated here (not vendored): --rows rows x 2049 uint16 tokens (random ids < 50277,
// 1% of the rows copies of earlier rows). Prints tokens/s per thread count and group count, and
// the projection for the Pile (2.9e11 tokens = 143000*1024 rows of 2049) at the measured rate.
//   bench_dedup [--rows 20000] [--threads 1,2] [--memory-kib 1048576,256] [--dir /tmp/...]
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <tbb/global_control.h>

#include "bench/bench_common.h"
#include "memorization/dedup_count.h"

namespace fs = std::filesystem;
using namespace pythia;

namespace {
template <typename T>
void put(std::ofstream& f, T v) { f.write(reinterpret_cast<const char*>(&v), sizeof v); }
}  // namespace

int main(int argc, char** argv) {
  std::uint64_t rows = 20000;
  std::string threads_arg = "1,2", memory_arg = "1048576,256";
  fs::path dir = fs::temp_directory_path() / ("bench_dedup_" + std::to_string(::getpid()));
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string f = argv[i], v = argv[i + 1];
    if (f == "--rows") rows = std::stoull(v);
    else if (f == "--threads") threads_arg = v;
    else if (f == "--memory-kib") memory_arg = v;
    else if (f == "--dir") dir = v;
    else { std::fprintf(stderr, "unknown flag %s\n", f.c_str()); return 2; }
  }
  bench::print_machine_header("bench_dedup");
  fs::create_directories(dir);
  const int len = 2049;
  const std::string prefix = (dir / "document").string();
  {
    std::mt19937_64 rng(7);
    std::ofstream idx(prefix + ".idx", std::ios::binary), bin(prefix + ".bin", std::ios::binary);
    idx.write("MMIDIDX\0\0", 9);
    put<std::uint64_t>(idx, 1);
    put<std::uint8_t>(idx, 8);
    put<std::uint64_t>(idx, rows);
    put<std::uint64_t>(idx, rows + 1);
    for (std::uint64_t i = 0; i < rows; ++i) put<std::int32_t>(idx, len);
    for (std::uint64_t i = 0; i < rows; ++i) put<std::int64_t>(idx, static_cast<std::int64_t>(i * len * 2));
    for (std::uint64_t i = 0; i <= rows; ++i) put<std::int64_t>(idx, static_cast<std::int64_t>(i));
    std::vector<std::vector<std::uint16_t>> kept;
    for (std::uint64_t i = 0; i < rows; ++i) {
      std::vector<std::uint16_t> r(len);
      if (!kept.empty() && rng() % 100 == 0) {
        r = kept[rng() % kept.size()];
      } else {
        for (auto& t : r) t = static_cast<std::uint16_t>(rng() % 50277);
        if (kept.size() < 64) kept.push_back(r);
      }
      bin.write(reinterpret_cast<const char*>(r.data()), len * 2);
    }
  }
  const double tokens = static_cast<double>(rows) * len;
  std::printf("memmap: %llu rows x %d tokens = %.1f M tokens (%s)\n", static_cast<unsigned long long>(rows), len,
              tokens / 1e6, prefix.c_str());
  const double pile_tokens = 143000.0 * 1024 * 2049;
  for (const std::string& m : bench::split_commas(memory_arg)) {
    for (const std::string& t : bench::split_commas(threads_arg)) {
      tbb::global_control gc(tbb::global_control::max_allowed_parallelism, std::stoi(t));
      memorization::DedupPlan p;
      p.data_prefix = prefix;
      p.output = dir / "out";
      p.memory_bytes = std::stoull(m) << 10;
      p.progress = false;
      const auto s = memorization::run_dedup_count(p);
      const double rate = tokens * static_cast<double>(s.groups) / s.seconds;
      std::printf("memory %s KiB, threads %s: %llu group(s), %.2f s, %.1f M tokens/s per pass "
                  "(%.1f M window positions/s incl. all passes)\n",
                  m.c_str(), t.c_str(), static_cast<unsigned long long>(s.groups), s.seconds, rate / 1e6,
                  tokens / s.seconds / 1e6);
      // The Pile with every row a query (146.4M rows, ~11.7 GB of table at 80 B a row): passes =
      // ceil(11.7 GB / --memory-mb); time = passes * tokens / rate, at THIS rate (cache-resident table).
      std::printf("  Pile projection at this rate: %.1f h per pass with %s thread(s)\n",
                  pile_tokens / rate / 3600, t.c_str());
    }
  }
  fs::remove_all(dir);
  return 0;
}

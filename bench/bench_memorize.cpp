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
// Second table (scanner only, same run, interleaved): the single teacher-forced pass against the
// staged one (ScanConfig::stage_ends = default_stage_ends, what the job uses for GptNeox) on two
// row sets: "real" (the mini-pile rows; random weights -> first mismatch at t = 32) and "synth"
// (the prompts of those rows continued with the model's own greedy tokens up to a first mismatch
// m drawn per row: P(m = 32 + k) ~ 0.5^(k+1), 1 row in 32 memorized -- a per-token greedy accuracy
// like a trained model's). Both plans must give identical RowScores (checked, printed). A third
// column runs the staged plan with --token-stats (memorization/token_stats.h: one full teacher-
// forced pass plus logprob/rank/entropy of all 32 positions); "stats cost" = its CPU time over
// the staged pass's (the job's default) -- the --token-stats overhead.
//
// Job table variants (--variants, same random model in each form, side by side):
//   fp32w      weights held as fp32 panels (the pre-#11 layout), fp32 compute
//   half       weights in fp16 panels widened in registers, fp32 compute (today's default;
//              bit-identical to fp32w)
//   bf16       --compute bf16: bf16 screen of every row + fp32 re-score of the rows whose margin
//              is below tau + B (exact scores; "rechk" = rows re-scored). Random weights give
//              near-uniform logits, so most rows are near ties and get re-scored: the worst case.
//   bf16-only  the bf16 screen alone (NOT exact; the speed bf16 would give with no re-checks)
// Models: 70m, 160m, 1.4b (pythia-1.4b shape: C 2048, 24 layers, I 8192; fp32w skipped there).
//
// Usage: bench_memorize [--rows N] [--batch B] [--models 70m,160m] [--threads 1,2] [--reps R]
//                       [--variants fp32w,half,bf16,bf16-only] [--no-job] [--no-scanner]
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

#include "memorization/scanner.h"
#include "memorization/scan_job.h"
#include "harness/threading.h"
#include "bench/bench_common.h"
#include "model/gemm.h"
#include "model/gpt_neox.h"
#include "model/greedy_decoder.h"
#include "model/logit_ops.h"
#include "data/indexed_dataset.h"
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <random>

namespace {

namespace fs = std::filesystem;
using pythia::model::GptNeox;
using pythia::model::NeoxConfig;

// Process CPU seconds (user + system, all threads).
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

using pythia::model::Token;

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The first 64 tokens of mini-pile rows 0 .. rows-1.
std::vector<Token> real_windows(int rows) {
  const pythia::data::IndexedDataset ds(std::string(PYTHIA_SOURCE_DIR) + "/tests/fixtures/mini-pile/document");
  std::vector<Token> w(static_cast<std::size_t>(rows) * 64);
  for (int r = 0; r < rows; ++r)
    ds.read_tokens(static_cast<std::uint64_t>(r % static_cast<int>(ds.size())),
                   std::span<Token>(w).subspan(static_cast<std::size_t>(r) * 64, 64));
  return w;
}

// Prompts of `real`, continued greedily (decode(), id 0 masked) and cut at a drawn first mismatch.
std::vector<Token> synthetic_windows(const GptNeox& lm, const std::vector<Token>& real, int rows) {
  std::vector<pythia::model::KvCache> caches;
  std::vector<Token> g(static_cast<std::size_t>(rows) * 64), next(static_cast<std::size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    caches.push_back(lm.make_cache(63));
    const auto x = std::span<const Token>(real).subspan(static_cast<std::size_t>(r) * 64, 32);
    std::copy(x.begin(), x.end(), g.begin() + r * 64);
    lm.forward(x, caches.back(), std::vector<int>{31}, [&](int, std::span<const float> l) {
      next[static_cast<std::size_t>(r)] = pythia::model::top2(l, 0).best_id;
    });
  }
  std::vector<pythia::model::KvCache*> ptrs;
  for (auto& c : caches) ptrs.push_back(&c);
  for (int r = 0; r < rows; ++r) g[static_cast<std::size_t>(r * 64 + 32)] = next[static_cast<std::size_t>(r)];
  std::vector<int> t_of(static_cast<std::size_t>(rows), 33);  // position the next choice fills
  pythia::model::greedy_decode(lm, ptrs, next, 0, [&](std::size_t r, const pythia::model::GreedyChoice& c) {
    int& t = t_of[r];
    g[r * 64 + static_cast<std::size_t>(t)] = c.token;
    return ++t < 64;
  });
  std::mt19937 rng(42);
  for (int r = 0; r < rows; ++r) {
    int m = 32;
    if (r % 32 == 31) m = 64;
    else while (m < 63 && (rng() & 1u)) ++m;
    if (m < 64) {
      Token& t = g[static_cast<std::size_t>(r * 64 + m)];
      t = t % 50000 + 1;  // != the greedy token, != 0
    }
  }
  return g;
}

// Single pass vs staged teacher forcing through MemorizationScanner::score (blocks of `batch`
// rows, TBB inside), interleaved: for each rep, threads, mode, set: single then staged.
void scanner_comparison(const GptNeox& lm, const std::string& name, int rows, int batch,
                        const std::vector<int>& thread_counts, int reps) {
  using pythia::memorization::MemorizationScanner;
  using pythia::results::RowScore;
  using pythia::memorization::ScanConfig;
  const auto real = real_windows(rows);
  const auto synth = synthetic_windows(lm, real, rows);
  std::vector<std::uint64_t> idx(static_cast<std::size_t>(rows));
  for (int r = 0; r < rows; ++r) idx[static_cast<std::size_t>(r)] = static_cast<std::uint64_t>(r);
  struct Acc { double wall = 0, cpu = 0; };
  std::map<std::string, Acc> acc;
  std::map<std::string, std::map<int, int>> hist;
  bool identical = true;
  for (int rep = 0; rep < reps; ++rep) {
    for (const int threads : thread_counts) {
      pythia::harness::ThreadSetup ts(threads);
      for (const bool exact : {true, false}) {
        for (const auto* set : {&real, &synth}) {
          std::vector<RowScore> ref;
          for (const int variant : {0, 1, 2}) {  // single, staged, staged + token stats (one pass)
            const bool staged = variant >= 1, with_stats = variant == 2;
            ScanConfig cfg;
            cfg.exact_score = exact;
            if (staged) cfg.stage_ends = pythia::memorization::default_stage_ends(32, 32);
            const MemorizationScanner scanner(lm, cfg);
            std::vector<RowScore> out(static_cast<std::size_t>(rows));
            std::vector<pythia::memorization::TokenStat> stats(with_stats ? static_cast<std::size_t>(rows) * 32 : 0);
            const double c0 = cpu_seconds(), w0 = wall_seconds();
            for (int b0 = 0; b0 < rows; b0 += batch) {
              const int n = std::min(batch, rows - b0);
              scanner.score(std::span<const Token>(*set).subspan(static_cast<std::size_t>(b0) * 64, static_cast<std::size_t>(n) * 64),
                            std::span<const std::uint64_t>(idx).subspan(static_cast<std::size_t>(b0), static_cast<std::size_t>(n)),
                            std::span<RowScore>(out).subspan(static_cast<std::size_t>(b0), static_cast<std::size_t>(n)), true,
                            with_stats ? std::span<pythia::memorization::TokenStat>(stats).subspan(static_cast<std::size_t>(b0) * 32, static_cast<std::size_t>(n) * 32)
                                       : std::span<pythia::memorization::TokenStat>());
            }
            const std::string key = std::string(set == &real ? "real " : "synth") + "|" + (exact ? "exact" : "memorized-only") +
                                    "|" + std::to_string(threads) + "|" + (with_stats ? "stats" : staged ? "staged" : "single");
            acc[key].wall += wall_seconds() - w0;
            acc[key].cpu += cpu_seconds() - c0;
            if (!staged) {
              ref = out;
              if (rep == 0 && threads == thread_counts.front() && exact) {
                auto& h = hist[set == &real ? "real" : "synth"];
                for (const auto& r : out) ++h[r.first_mismatch];
              }
            } else {
              for (int r = 0; r < rows; ++r) {
                const RowScore& a = ref[static_cast<std::size_t>(r)];
                const RowScore& b = out[static_cast<std::size_t>(r)];
                if (a.matches != b.matches || a.first_mismatch != b.first_mismatch || a.memorized != b.memorized ||
                    std::memcmp(&a.min_margin, &b.min_margin, sizeof(float)) != 0 || a.nan != b.nan) identical = false;
              }
            }
          }
        }
      }
    }
  }
  std::printf("\nscanner only, %s, %d rows, batch %d, %d rep(s) interleaved; staged = stage ends 33,37,45,63\n",
              name.c_str(), rows, batch, reps);
  for (const auto& [set, h] : hist) {
    std::printf("  first mismatch histogram (%s):", set.c_str());
    for (const auto& [m, n] : h) std::printf(" %d:%d", m, n);
    std::printf("\n");
  }
  std::printf("%-6s %-6s %-15s %-8s | %9s %9s %9s | %11s %11s %11s | %7s %12s\n", "model", "rows", "mode", "threads",
              "single/s", "staged/s", "stats/s", "single/cpu-s", "staged/cpu-s", "stats/cpu-s", "speedup",
              "stats cost");
  for (const char* set : {"real ", "synth"}) {
    for (const char* mode : {"exact", "memorized-only"}) {
      for (const int threads : thread_counts) {
        const std::string k = std::string(set) + "|" + mode + "|" + std::to_string(threads) + "|";
        const Acc a = acc[k + "single"], b = acc[k + "staged"], s = acc[k + "stats"];
        const double n = static_cast<double>(rows) * reps;
        // stats cost: CPU time of the staged pass + token stats over the staged pass the job uses.
        std::printf("%-6s %-6s %-15s %-8d | %9.2f %9.2f %9.2f | %11.2f %11.2f %11.2f | %6.2fx %11.2fx\n", name.c_str(), set,
                    mode, threads, n / a.wall, n / b.wall, n / s.wall, n / a.cpu, n / b.cpu, n / s.cpu, a.cpu / b.cpu,
                    s.cpu / b.cpu);
      }
    }
  }
  std::printf("RowScores of single and staged identical on every row: %s\n", identical ? "yes" : "NO");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int rows = 64, batch = 64;
  std::vector<std::string> models = {"70m", "160m"};
  std::vector<int> thread_counts = {1, 2};
  std::vector<std::string> variants = {"half"};
  int reps = 1;
  bool job = true, scanner_table = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rows" && i + 1 < argc) rows = std::max(1, std::atoi(argv[++i]));
    else if (a == "--batch" && i + 1 < argc) batch = std::max(1, std::atoi(argv[++i]));
    else if (a == "--models" && i + 1 < argc) models = pythia::bench::split_commas(argv[++i]);
    else if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--variants" && i + 1 < argc) variants = pythia::bench::split_commas(argv[++i]);
    else if (a == "--no-job") job = false;
    else if (a == "--no-scanner") scanner_table = false;
    else if (a == "--threads" && i + 1 < argc) {
      thread_counts.clear();
      for (const auto& t : pythia::bench::split_commas(argv[++i])) thread_counts.push_back(std::atoi(t.c_str()));
    } else {
      std::fprintf(stderr, "usage: bench_memorize [--rows N] [--batch B] [--models 70m,160m] [--threads 1,2] "
                           "[--reps R] [--variants fp32w,half,bf16,bf16-only] [--no-job] [--no-scanner]\n");
      return 2;
    }
  }
  pythia::model::use_single_threaded_blas();
  std::printf("bench_memorize  commit %s  CPU %s\nBLAS: %s\n",
              pythia::bench::git_commit().c_str(),
              pythia::bench::cpu_model().c_str(), pythia::model::blas_config().c_str());
  std::printf("%d rows of tests/fixtures/mini-pile (real text), batch %d, random weights (fp16-rounded)\n\n", rows, batch);

  const fs::path tmp = fs::temp_directory_path() / ("bench_memorize_" + std::to_string(::getpid()));
  std::printf("seq/cpu-s = sequences per CPU-second of this process (robust to other load on a shared\n"
              "machine); seq/s x threads / (seq/cpu-s) = the cores actually obtained.\n\n");
  if (job)
    std::printf("%-6s %-10s %-8s %-15s %10s %10s %11s %6s\n", "model", "variant", "threads", "mode", "seq/s",
                "seconds", "seq/cpu-s", "rechk");
  for (const auto& name : models) {
    NeoxConfig c;  // pythia-70m's shape by default
    if (name == "160m") {
      c.hidden_size = 768;
      c.num_hidden_layers = 12;
      c.num_attention_heads = 12;
      c.intermediate_size = 3072;
    } else if (name == "1.4b") {
      c.hidden_size = 2048;
      c.num_hidden_layers = 24;
      c.num_attention_heads = 16;
      c.intermediate_size = 8192;
    } else if (name != "70m") {
      std::fprintf(stderr, "unknown model %s (70m, 160m, 1.4b)\n", name.c_str());
      return 2;
    }
    using pythia::model::PanelDType;
    const auto lm = GptNeox::random(c, 1234, PanelDType::kF16);  // the "half" model
    auto has = [&](const char* v) { return std::find(variants.begin(), variants.end(), v) != variants.end(); };
    std::unique_ptr<GptNeox> fp32w, bf;
    if (has("fp32w") && name != "1.4b") fp32w = GptNeox::random(c, 1234, PanelDType::kF32, PanelDType::kF16);
    if (has("bf16") || has("bf16-only")) bf = lm->with_compute(pythia::model::Compute::kBf16);
    for (const int threads : job ? thread_counts : std::vector<int>{}) {
      pythia::harness::ThreadSetup ts(threads);
      for (const std::string& variant : variants) {
      const GptNeox* run_lm = variant == "fp32w" ? fp32w.get() : variant == "half" ? lm.get() : bf.get();
      const GptNeox* exact = variant == "bf16" ? lm.get() : nullptr;
      if (run_lm == nullptr) continue;
      for (const bool memorized_only : {false, true}) {
        pythia::memorization::ScanPlan o;
        o.data = std::string(PYTHIA_SOURCE_DIR) + "/tests/fixtures/mini-pile/document";
        o.output = tmp.string();
        o.start = 0;
        o.end = static_cast<std::uint64_t>(rows);
        o.batch_size = batch;
        o.score_mode = memorized_only ? pythia::memorization::ScoreMode::kMemorizedOnly : pythia::memorization::ScoreMode::kExact;
        o.checksums = pythia::memorization::Checksums::kNone;
        o.progress = false;
        fs::remove_all(tmp);
        const double cpu0 = cpu_seconds();
        const auto s = pythia::memorization::run_memorize_job(*run_lm, "pythia-" + name, "bench", o, nullptr, exact);
        const double cpu = cpu_seconds() - cpu0;
        std::printf("%-6s %-10s %-8d %-15s %10.2f %10.2f %11.2f %6llu\n", name.c_str(), variant.c_str(), threads,
                    memorized_only ? "memorized-only" : "exact", static_cast<double>(s.rows_computed) / s.seconds,
                    s.seconds, static_cast<double>(s.rows_computed) / cpu,
                    static_cast<unsigned long long>(s.rows_rechecked));
        std::fflush(stdout);
      }
      }
    }
    if (scanner_table) scanner_comparison(*lm, name, rows, batch, thread_counts, reps);
  }
  fs::remove_all(tmp);
  std::printf("\nanchors (2 threads): HF no-cache 1.00 / 0.39 seq/s, HF cache 13.4 / 5.3, HF teacher-forced "
              "23.5 / 9.2, llama.cpp batched 20.2 / 7.1 (70m / 160m)\n");
  return 0;
}

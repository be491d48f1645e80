// Forward-pass throughput of GptNeox on the pythia-70m and pythia-160m shapes with random
// weights made in memory, fp32 weights next to fp16 (and optionally bf16) weights of the SAME
// values (GptNeox::random(c, seed, kF32, kF16) vs random(c, seed, kF16): bit-identical logits,
// checked here), and the OpenBLAS sgemm rate measured in the same run
// (perf-anchors.md §5-6: scoring >= 60-85 % of the sgemm rate; 64-token scoring >= 1800 tok/s
// for 70m at 2 threads; 2048-token windows >= 1400 tok/s).
//
// Workloads (all logits rows computed, each row reduced to logsumexp + argmax as `score` does):
//   score64   B 64-token sequences processed concurrently (one forward() each), B = 1, 4, 16, 64
//   score2048 one 2048-token sequence (parallel inside the forward)
//   memorize  B = 64 sequences: 32-token prefix forward (last row) + 31 batched decode() steps
// Each workload line shows every weight type measured back to back, and the ratio to fp32.
// Useful FLOPs per token: 2 x (4 C^2 + 2 C I) per layer + causal attention 4 C x avg keys per
// layer + 2 C V for the logits (perf-anchors §3 counting: 89.7 MFLOP/token for 70m at 64 tokens).
// sgemm rate: `threads` concurrent single-threaded cblas_sgemm calls (how the model uses BLAS);
// matmul_packed rates with fp32 and fp16 panels.
//
// --bf16-compute adds "bf16c": the last weight type's model computing its large products in bf16
// (gpt_neox.h Compute::kBf16; not bit-identical to fp32), and matmul_bf16 rates in the GEMM table,
// each next to the measured peak of its instruction (bench/peak_flops.h).
//
// Usage: bench_forward [--quick] [--reps N] [--models 70m,160m,410m,1b,1.4b] [--threads 1,2]
//                      [--weights f32,f16,bf16] [--bf16-compute]
//                      [--only gemm|score64|score2048|memorize]
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "harness/threading.h"
#include "bench/bench_common.h"
#include "bench/peak_flops.h"
#include "model/gemm_bf16.h"
#include "model/float16.h"
#include "model/gemm.h"
#include "model/gpt_neox.h"
#include "model/logit_ops.h"

namespace {

using pythia::model::GptNeox;
using pythia::model::KvCache;
using pythia::model::NeoxConfig;
using pythia::model::PanelDType;
using pythia::model::Token;
using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median seconds of `reps` runs of f (after one warm-up run when warm).
double time_it(int reps, const std::function<void()>& f, bool warm = true) {
  if (warm) f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return median(t);
}

struct Shape {
  const char* what;
  int M, N, K;
};

// GFLOP/s of `threads` concurrent sgemm calls of one shape.
double sgemm_rate(const Shape& s, int threads, int reps) {
  std::vector<std::vector<float>> A(static_cast<std::size_t>(threads)), C(A.size());
  std::vector<float> B(static_cast<std::size_t>(s.N) * s.K, 0.01f);
  for (auto& a : A) a.assign(static_cast<std::size_t>(s.M) * s.K, 0.02f);
  for (auto& c : C) c.assign(static_cast<std::size_t>(s.M) * s.N, 0.0f);
  const double flop = 2.0 * s.M * s.N * s.K * threads;
  // Enough calls per timing for ~0.2 s.
  const int calls = std::max(1, static_cast<int>(2e10 / (2.0 * s.M * s.N * s.K)));
  const double t = time_it(reps, [&] {
    tbb::parallel_for(0, threads, [&](int i) {
      for (int c = 0; c < calls; ++c)
        pythia::model::sgemm_nt(s.M, s.N, s.K, 1.0f, A[static_cast<std::size_t>(i)].data(), s.K,
                                B.data(), s.K, 0.0f, C[static_cast<std::size_t>(i)].data(), s.N);
    }, tbb::static_partitioner());
  });
  return flop * calls / t / 1e9;
}

// GFLOP/s of `threads` concurrent matmul_bf16 calls of one shape (bf16 compute).
double bf16_rate(const Shape& s, int threads, int reps) {
  std::vector<std::vector<float>> A(static_cast<std::size_t>(threads)), C(A.size());
  const std::vector<float> B(static_cast<std::size_t>(s.N) * s.K, 0.01f);
  const pythia::model::Bf16Weight P{pythia::model::PackedWeight(B.data(), s.N, s.K)};
  for (auto& a : A) a.assign(static_cast<std::size_t>(s.M) * s.K, 0.02f);
  for (auto& c : C) c.assign(static_cast<std::size_t>(s.M) * s.N, 0.0f);
  const double flop = 2.0 * s.M * s.N * s.K * threads;
  const int calls = std::max(1, static_cast<int>(2e10 / (2.0 * s.M * s.N * s.K)));
  const double t = time_it(reps, [&] {
    tbb::parallel_for(0, threads, [&](int i) {
      for (int c = 0; c < calls; ++c)
        pythia::model::matmul_bf16(s.M, A[static_cast<std::size_t>(i)].data(), s.K, P, nullptr,
                                   C[static_cast<std::size_t>(i)].data(), s.N);
    }, tbb::static_partitioner());
  });
  return flop * calls / t / 1e9;
}

// GFLOP/s of `threads` concurrent matmul_packed calls of one shape (the model's weight products)
// with panels of `dtype`.
double packed_rate(const Shape& s, int threads, int reps, PanelDType dtype) {
  std::vector<std::vector<float>> A(static_cast<std::size_t>(threads)), C(A.size());
  const std::vector<float> B(static_cast<std::size_t>(s.N) * s.K, 0.01f);
  const std::vector<std::uint16_t> Bh(B.size(), dtype == PanelDType::kBF16 ? pythia::model::f32_to_bf16(0.01f)
                                                                           : pythia::model::f32_to_f16(0.01f));
  const pythia::model::PackedWeight P =
      dtype == PanelDType::kF32 ? pythia::model::PackedWeight(B.data(), s.N, s.K)
                                : pythia::model::PackedWeight(dtype, Bh.data(), s.N, s.K);
  for (auto& a : A) a.assign(static_cast<std::size_t>(s.M) * s.K, 0.02f);
  for (auto& c : C) c.assign(static_cast<std::size_t>(s.M) * s.N, 0.0f);
  const double flop = 2.0 * s.M * s.N * s.K * threads;
  const int calls = std::max(1, static_cast<int>(2e10 / (2.0 * s.M * s.N * s.K)));
  const double t = time_it(reps, [&] {
    tbb::parallel_for(0, threads, [&](int i) {
      for (int c = 0; c < calls; ++c)
        pythia::model::matmul_packed(s.M, A[static_cast<std::size_t>(i)].data(), s.K, P, nullptr,
                                     C[static_cast<std::size_t>(i)].data(), s.N);
    }, tbb::static_partitioner());
  });
  return flop * calls / t / 1e9;
}

double flops_per_token(const NeoxConfig& c, int T) {
  const double C = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  const double avg_keys = (T + 1) / 2.0;
  return c.num_hidden_layers * (2.0 * (4 * C * C + 2 * C * I) + 4.0 * C * avg_keys) + 2.0 * C * V;
}

std::vector<std::vector<Token>> random_sequences(int n, int len, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(0, 50276);
  std::vector<std::vector<Token>> v(static_cast<std::size_t>(n), std::vector<Token>(static_cast<std::size_t>(len)));
  for (auto& s : v)
    for (auto& t : s) t = d(rng);
  return v;
}

// Scores every sequence (all rows; logsumexp + argmax per row), `batch` at a time concurrently.
void score_all(const GptNeox& m, const std::vector<std::vector<Token>>& seqs, int batch) {
  for (std::size_t b0 = 0; b0 < seqs.size(); b0 += static_cast<std::size_t>(batch)) {
    const std::size_t b1 = std::min(seqs.size(), b0 + static_cast<std::size_t>(batch));
    tbb::parallel_for(b0, b1, [&](std::size_t i) {
      const auto& ids = seqs[i];
      std::vector<int> rows(ids.size());
      for (std::size_t r = 0; r < rows.size(); ++r) rows[r] = static_cast<int>(r);
      std::vector<double> lse(ids.size());
      std::vector<int> arg(ids.size());
      KvCache cache = m.make_cache(static_cast<int>(ids.size()));
      m.forward(ids, cache, rows, [&](int r, std::span<const float> lg) {
        lse[static_cast<std::size_t>(r)] = pythia::model::logsumexp(lg);
        arg[static_cast<std::size_t>(r)] = pythia::model::argmax(lg);
      });
    });
  }
}

// eval_memorization-style: 32-token prefixes, 32 greedy tokens (EOS masked), B at once.
void memorize_batch(const GptNeox& m, const std::vector<std::vector<Token>>& prefixes) {
  const std::size_t B = prefixes.size();
  std::vector<KvCache> caches(B);
  std::vector<Token> next(B);
  // As `generate`: prefix tokens 0..30 by forward() (no logits), token 31 of all rows by one
  // decode() step, then 31 more decode steps.
  tbb::parallel_for(std::size_t{0}, B, [&](std::size_t i) {
    caches[i] = m.make_cache(64);
    m.forward(std::span<const Token>(prefixes[i]).first(31), caches[i], {},
              [](int, std::span<const float>) {});
  });
  std::vector<KvCache*> ptrs;
  for (auto& c : caches) ptrs.push_back(&c);
  {
    std::vector<Token> last(B);
    for (std::size_t i = 0; i < B; ++i) last[i] = prefixes[i][31];
    m.decode(last, ptrs, [&](int b, std::span<const float> lg) {
      next[static_cast<std::size_t>(b)] = pythia::model::argmax(lg, 0);
    });
  }
  for (int step = 1; step < 32; ++step) {
    const std::vector<Token> cur = next;
    m.decode(cur, ptrs, [&](int b, std::span<const float> lg) {
      next[static_cast<std::size_t>(b)] = pythia::model::argmax(lg, 0);
    });
  }
}

// "f32" / "f16" / "bf16" -> PanelDType; false if unknown.
bool parse_weights(const std::string& s, PanelDType* out) {
  if (s == "f32") *out = PanelDType::kF32;
  else if (s == "f16") *out = PanelDType::kF16;
  else if (s == "bf16") *out = PanelDType::kBF16;
  else return false;
  return true;
}

// Logits of every row of one sequence (to check that the weight types give the same bits).
std::vector<float> logits_of(const GptNeox& m, const std::vector<Token>& ids) {
  std::vector<float> out(ids.size() * static_cast<std::size_t>(m.vocab_size()));
  std::vector<int> rows(ids.size());
  for (std::size_t r = 0; r < rows.size(); ++r) rows[r] = static_cast<int>(r);
  KvCache cache = m.make_cache(static_cast<int>(ids.size()));
  m.forward(ids, cache, rows, [&](int r, std::span<const float> lg) {
    std::copy(lg.begin(), lg.end(), out.begin() + static_cast<std::ptrdiff_t>(r) * m.vocab_size());
  });
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, bf16_compute = false;
  std::string only;  // gemm | score64 | score2048 | memorize (default: all)
  int reps = 3;
  std::vector<std::string> models = {"70m", "160m"};
  std::vector<int> thread_counts = {1, 2};
  std::vector<PanelDType> weight_types = {PanelDType::kF32, PanelDType::kF16};
  const char* usage =
      "usage: bench_forward [--quick] [--reps N] [--models 70m,160m,410m,1b,1.4b] [--threads 1,2] "
      "[--weights f32,f16,bf16] [--bf16-compute] [--only gemm|score64|score2048|memorize]\n";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (a == "--bf16-compute") bf16_compute = true;
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--models" && i + 1 < argc) models = pythia::bench::split_commas(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) {
      thread_counts.clear();
      for (const auto& t : pythia::bench::split_commas(argv[++i])) thread_counts.push_back(std::atoi(t.c_str()));
    } else if (a == "--weights" && i + 1 < argc) {
      weight_types.clear();
      for (const auto& w : pythia::bench::split_commas(argv[++i])) {
        PanelDType d{};
        if (!parse_weights(w, &d)) {
          std::fprintf(stderr, "unknown weight type %s (f32, f16, bf16)\n%s", w.c_str(), usage);
          return 2;
        }
        weight_types.push_back(d);
      }
    } else {
      std::fprintf(stderr, "%s", usage);
      return 2;
    }
  }
  pythia::model::use_single_threaded_blas();
  std::printf("bench_forward  commit %s  CPU %s\nBLAS: %s\nmatmul_packed ISA: %s (PYTHIA_GEMM_ISA=avx512|avx2|portable overrides)\n",
              pythia::bench::git_commit().c_str(),
              pythia::bench::cpu_model().c_str(), pythia::model::blas_config().c_str(),
              pythia::model::gemm_isa_name(pythia::model::gemm_isa()));
  std::printf("load average: %s\n", pythia::bench::run_cmd("cut -d' ' -f1-3 /proc/loadavg").c_str());
  std::printf("fixed chunks: rows %d, attention queries %d, logit rows %d; median of %d reps\n",
              GptNeox::kRowChunk, GptNeox::kAttnChunk, GptNeox::kLogitChunk, reps);
  std::printf("weights: random, the same values (rounded to the half type measured) stored as");
  for (const auto d : weight_types) std::printf(" %s", pythia::model::panel_dtype_name(d));
  std::printf("\n\n");
  // The values: rounded to the one half type measured, so every type holds the same model (with
  // both f16 and bf16 there is no common rounding: each half model rounds to its own type).
  const bool has_f16 = std::find(weight_types.begin(), weight_types.end(), PanelDType::kF16) != weight_types.end();
  const bool has_bf16 = std::find(weight_types.begin(), weight_types.end(), PanelDType::kBF16) != weight_types.end();
  const PanelDType precision = has_f16 == has_bf16 ? PanelDType::kF32 : has_f16 ? PanelDType::kF16 : PanelDType::kBF16;

  struct ModelCase {
    std::string name;
    NeoxConfig cfg;
    std::vector<std::unique_ptr<GptNeox>> models;  // one per weight type
  };
  std::vector<ModelCase> cases;
  for (const auto& name : models) {
    NeoxConfig c;  // defaults are pythia-70m's
    auto shape = [&c](int hidden, int layers, int heads, int inter) {
      c.hidden_size = hidden;
      c.num_hidden_layers = layers;
      c.num_attention_heads = heads;
      c.intermediate_size = inter;
    };
    if (name == "160m") shape(768, 12, 12, 3072);
    else if (name == "410m") shape(1024, 24, 16, 4096);
    else if (name == "1b") shape(2048, 16, 8, 8192);
    else if (name == "1.4b") shape(2048, 24, 16, 8192);
    else if (name != "70m") {
      std::fprintf(stderr, "unknown model %s (70m, 160m, 410m, 1b, 1.4b)\n", name.c_str());
      return 2;
    }
    ModelCase mc{name, c, {}};
    for (const auto d : weight_types) {
      mc.models.push_back(GptNeox::random(c, 1234, d, d == PanelDType::kF32 ? precision : d));
    }
    if (bf16_compute)  // the last weight type's model, computing in bf16 (shares its weights)
      mc.models.push_back(mc.models.back()->with_compute(pythia::model::Compute::kBf16));
    std::printf("pythia-%s shapes: weights", name.c_str());
    for (std::size_t i = 0; i < weight_types.size(); ++i)
      std::printf(" %s %.1f MB;", pythia::model::panel_dtype_name(weight_types[i]),
                  mc.models[i]->weights().bytes() / 1e6);
    if (mc.models.size() > 1 && precision != PanelDType::kF32) {
      const auto ids = random_sequences(1, 70, 3)[0];
      const auto ref = logits_of(*mc.models[0], ids);
      bool same = true;
      for (std::size_t i = 1; i < weight_types.size(); ++i)
        same = same && std::memcmp(ref.data(), logits_of(*mc.models[i], ids).data(), ref.size() * sizeof(float)) == 0;
      std::printf(" logits of a 70-token sequence bit-identical across types: %s", same ? "yes" : "NO");
    }
    std::printf("\n");
    cases.push_back(std::move(mc));
  }
  std::printf("\n");

  auto type_list = [&](const std::vector<double>& v, const char* unit, const char* fmt) {
    std::string line;
    char buf[96];
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::snprintf(buf, sizeof buf, fmt, i < weight_types.size() ? pythia::model::panel_dtype_name(weight_types[i]) : "bf16c", v[i], unit);
      line += buf;
      if (i > 0 && v[0] > 0) {
        std::snprintf(buf, sizeof buf, " (%.2fx)", v[i] / v[0]);
        line += buf;
      }
    }
    return line;
  };

  for (const int threads : thread_counts) {
    pythia::harness::ThreadSetup ts(threads);
    std::printf("=== threads %d ===\n", threads);
    const double peak_fma = pythia::bench::peak_fma_gflops(threads);
    const double peak_bf16 = pythia::bench::peak_dpbf16_gflops(threads);
    std::printf("  measured peak: AVX-512 vfmadd231ps %.1f GFLOP/s, AVX512_BF16 vdpbf16ps %.1f GFLOP/s\n",
                peak_fma, peak_bf16);
    const std::vector<Shape> shapes = {{"square-ish 2048x2048x512", 2048, 2048, 512},
                                       {"qkv 70m, 128-row chunk", 128, 1536, 512},
                                       {"fc 70m, 128-row chunk", 128, 2048, 512},
                                       {"fc 70m, 64 rows", 64, 2048, 512},
                                       {"unembed 70m, 64 rows", 64, 50304, 512},
                                       {"fc 160m, 128-row chunk", 128, 3072, 768},
                                       {"fc 1.4b, 1 row (decode)", 1, 8192, 2048},
                                       {"fc 1.4b, 6 rows", 6, 8192, 2048}};
    double ref_rate = 0.0;
    for (const auto& s : shapes) {
      if (!only.empty() && only != "gemm") break;
      const double r = sgemm_rate(s, threads, reps);
      if (ref_rate == 0.0) ref_rate = r;
      std::vector<double> rates;
      for (const auto d : weight_types) rates.push_back(packed_rate(s, threads, reps, d));
      std::printf("  %-28s M=%5d N=%5d K=%4d : sgemm %6.1f GFLOP/s, matmul_packed %s", s.what,
                  s.M, s.N, s.K, r, type_list(rates, "", " %s %6.1f%s").c_str());
      if (bf16_compute) {
        const double b = bf16_rate(s, threads, reps);
        std::printf(", matmul_bf16 %6.1f (%.0f %% of vdpbf16ps peak; packed %s %.0f %% of fma peak)", b,
                    peak_bf16 > 0 ? 100 * b / peak_bf16 : 0.0,
                    pythia::model::panel_dtype_name(weight_types.back()),
                    peak_fma > 0 ? 100 * rates.back() / peak_fma : 0.0);
      }
      std::printf("\n");
    }
    for (const auto& mc : cases) {
      const double f64 = flops_per_token(mc.cfg, 64), f2048 = flops_per_token(mc.cfg, 2048);
      std::printf("  pythia-%s shapes (C %d, layers %d, heads %d, I %d, V %d): %.1f MFLOP/token at T=64, %.1f at T=2048\n",
                  mc.name.c_str(), mc.cfg.hidden_size, mc.cfg.num_hidden_layers,
                  mc.cfg.num_attention_heads, mc.cfg.intermediate_size, mc.cfg.vocab_size,
                  f64 / 1e6, f2048 / 1e6);
      const int n_seq = quick ? 32 : 64;
      const auto seqs = random_sequences(n_seq, 64, 7);
      for (const int batch : {1, 4, 16, 64}) {
        if (batch > n_seq || (!only.empty() && only != "score64")) continue;
        std::vector<double> tok_s;
        for (const auto& m : mc.models)
          tok_s.push_back(n_seq * 64 / time_it(reps, [&] { score_all(*m, seqs, batch); }));
        std::printf("    score64   batch %2d : %s tok/s  (%s: %.1f GFLOP/s useful, %.0f %% of sgemm)\n",
                    batch, type_list(tok_s, "", " %s %7.0f%s").c_str(),
                    pythia::model::panel_dtype_name(weight_types.back()), tok_s.back() * f64 / 1e9,
                    ref_rate > 0 ? 100.0 * tok_s.back() * f64 / 1e9 / ref_rate : 0.0);
      }
      if (only.empty() || only == "score2048") {
        const auto long_seq = random_sequences(1, 2048, 8);
        std::vector<double> tok_s;
        for (const auto& m : mc.models)
          tok_s.push_back(2048 / time_it(quick ? 1 : std::max(1, reps - 1), [&] { score_all(*m, long_seq, 1); }, !quick));
        std::printf("    score2048 batch  1 : %s tok/s  (%s: %.1f GFLOP/s useful, %.0f %% of sgemm)\n",
                    type_list(tok_s, "", " %s %7.0f%s").c_str(),
                    pythia::model::panel_dtype_name(weight_types.back()), tok_s.back() * f2048 / 1e9,
                    ref_rate > 0 ? 100.0 * tok_s.back() * f2048 / 1e9 / ref_rate : 0.0);
      }
      if (only.empty() || only == "memorize") {
        const auto prefixes = random_sequences(64, 32, 9);
        std::vector<double> seq_s;
        for (const auto& m : mc.models) seq_s.push_back(64 / time_it(reps, [&] { memorize_batch(*m, prefixes); }));
        std::printf("    memorize  batch 64 : %s seq/s (32-token prefix + 32 greedy tokens, KV cache)\n",
                    type_list(seq_s, "", " %s %7.1f%s").c_str());
      }
    }
    std::printf("\n");
  }
  return 0;
}

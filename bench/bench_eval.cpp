// Evaluation throughput of the eval path (eval/evaluator.h: requests -> encode -> grouped,
// cache-reusing scoring on CausalLm -> metrics) per task on the pythia-70m shape with random
// weights (GptNeox::random), at 1 and 2 threads: requests/s and tokens/s (positions fed to the
// model), on the first --docs documents of each task from tests/fixtures/tasks.
// Figures are comparable as ratios inside one run (same machine, same moment).
//
// --num-fewshot K (default 0 and 5: both are measured) builds lm-eval's K-shot contexts
// (tasks/fewshot.h; few-shot pools of tests/fixtures/tasks, SAMPLE training files); wikitext is
// skipped for K > 0 (its requests ignore the context).
//
// Each row is measured with prefix sharing on (the default: eval/request_scoring.h) and, for
// K > 0, also off ("share" column), so the gain of reusing cached few-shot prefixes is a ratio
// inside one run; "tokens" are the positions actually fed.
//
// Usage: bench_eval [--docs N] [--threads 1,2] [--tasks a,b,...] [--num-fewshot 0,5]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "eval/evaluator.h"
#include "harness/threading.h"
#include "model/gemm.h"
#include "model/gpt_neox.h"
#include "model/tokenizer.h"
#include "tasks/fewshot.h"
#include "tasks/registry.h"

namespace {

namespace fs = std::filesystem;
using pythia::bench::split_commas;

}  // namespace

int main(int argc, char** argv) {
  std::int64_t docs = 24;
  std::vector<int> thread_counts = {1, 2};
  std::vector<std::string> names = pythia::tasks::task_names();
  std::vector<int> shots = {0, 5};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--docs" && i + 1 < argc) {
      docs = std::max<std::int64_t>(1, std::atoll(argv[++i]));
    } else if (a == "--threads" && i + 1 < argc) {
      thread_counts.clear();
      for (const auto& t : split_commas(argv[++i])) thread_counts.push_back(std::atoi(t.c_str()));
    } else if (a == "--tasks" && i + 1 < argc) {
      names = split_commas(argv[++i]);
    } else if (a == "--num-fewshot" && i + 1 < argc) {
      shots.clear();
      for (const auto& k : split_commas(argv[++i])) shots.push_back(std::atoi(k.c_str()));
    } else {
      std::fprintf(stderr,
                   "usage: bench_eval [--docs N] [--threads 1,2] [--tasks a,b,...] [--num-fewshot 0,5]\n");
      return 2;
    }
  }
  const fs::path src(PYTHIA_SOURCE_DIR);
  pythia::bench::print_machine_header("bench_eval");
  pythia::model::NeoxConfig cfg;  // defaults = pythia-70m: 6 x 512, 8 heads, vocab 50304
  const auto model = pythia::model::GptNeox::random(cfg, 1234);
  const auto tok = pythia::model::Tokenizer::from_file(src / "tests/fixtures/tokenizer/20B_tokenizer.json.gz");
  const pythia::eval::EncodeFn enc = [&](std::string_view s) { return tok.encode(s); };
  std::printf("model: pythia-70m shape (random weights), first %lld documents per task "
              "(wikitext: min(N, 8) pages)\n\n",
              static_cast<long long>(docs));
  std::printf("%-15s %5s %5s %7s %9s %9s %8s %11s %11s\n", "task", "shots", "share", "threads",
              "requests", "tokens", "seconds", "requests/s", "tokens/s");
  for (const int k : shots)
  for (const auto& name : names) {
    if (k > 0 && name == "wikitext") continue;
    auto task = pythia::tasks::make_task(name);
    task->load(src / "tests/fixtures/tasks", docs);
    pythia::tasks::apply_fewshot(*task, k, src / "tests/fixtures/tasks");
    double base_rps = 0.0;
    for (const bool share : {true, false}) {
      if (!share && k == 0) continue;
      for (int t : thread_counts) {
        pythia::harness::ThreadSetup threads(t);
        pythia::eval::EvalSettings s;
        s.bootstrap_iters = 0;  // time the model path, not the bootstrap
        s.share_prefixes = share;
        const auto t0 = std::chrono::steady_clock::now();
        const auto ev = pythia::eval::evaluate_task(*task, *model, enc, s);
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double rps = static_cast<double>(ev.records.size()) / sec;
        if (base_rps == 0.0) base_rps = rps;
        std::printf("%-15s %5d %5s %7d %9zu %9llu %8.2f %11.1f %11.0f  (requests/s x%.2f vs first row)\n",
                    name.c_str(), k, share ? "on" : "off", t, ev.records.size(),
                    static_cast<unsigned long long>(ev.positions), sec, rps,
                    static_cast<double>(ev.positions) / sec, rps / base_rps);
      }
    }
  }
  return 0;
}

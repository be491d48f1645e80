// Single-thread encode throughput of the GPT-NeoX-20B tokenizer on the golden corpus
// (tests/fixtures/tokenizer/corpus.jsonl.gz: 741 documents, 2.01 MB, 566,635 tokens), one
// document per encode() call, as the HF anchor in shared/golden/tokenizer/README.md was timed
// (0.45-0.50 M tokens/s lightly loaded; 0.64-0.70 M with encodeBatch on one thread).
//
// Runs, interleaved rep by rep so the ratios are same-run:
//   cold    : BPE piece cache emptied before the pass
//   warm    : cache already filled by the previous pass
//   nocache : cache disabled
// Also: decode throughput of the golden ids. Usage: bench_tokenizer [reps (default 5)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "data/jsonl_reader.h"
#include "model/tokenizer.h"

using pythia::bench::seconds_since;

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  const std::string dir = std::string(PYTHIA_SOURCE_DIR) + "/tests/fixtures/tokenizer/";
  auto tok = pythia::model::Tokenizer::from_file(dir + "20B_tokenizer.json.gz");
  std::vector<std::string> docs;
  std::vector<std::vector<std::int32_t>> golden;
  std::size_t bytes = 0, tokens = 0;
  pythia::data::for_each_jsonl(dir + "corpus.jsonl.gz", [&](std::int64_t, const nlohmann::json& j) {
    docs.push_back(j.at("text").get<std::string>());
    golden.push_back(j.at("ids").get<std::vector<std::int32_t>>());
    bytes += docs.back().size();
    tokens += golden.back().size();
  });

  pythia::bench::print_machine_header("bench_tokenizer",
                                      "benchmark threads 1, BLAS not used here");
  std::printf("corpus: %zu documents, %zu bytes, %zu tokens; %d reps, best and median shown\n",
              docs.size(), bytes, tokens, reps);

  std::vector<double> cold, warm, nocache, dec;
  std::size_t produced = 0;
  std::vector<std::int32_t> ids;
  const auto encode_all = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    produced = 0;
    for (const auto& d : docs) {
      ids.clear();
      tok.encode_into(d, ids);
      produced += ids.size();
    }
    return seconds_since(t0);
  };
  for (int r = 0; r < reps; ++r) {
    tok.set_cache_enabled(true);
    tok.clear_cache();
    cold.push_back(encode_all());
    warm.push_back(encode_all());
    tok.set_cache_enabled(false);
    nocache.push_back(encode_all());
    tok.set_cache_enabled(true);
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t chars = 0;
    for (const auto& g : golden) chars += tok.decode(g).size();
    dec.push_back(seconds_since(t0));
    if (chars == 0) std::printf("(no output)\n");
  }
  if (produced != tokens) {
    std::printf("WARNING: produced %zu tokens, golden %zu\n", produced, tokens);
  }
  const auto report = [&](const char* name, std::vector<double> t) {
    std::sort(t.begin(), t.end());
    const double best = t.front(), median = t[t.size() / 2];
    std::printf("%-8s best %7.1f ms  %6.2f M tokens/s  %6.2f MB/s   median %7.1f ms  %6.2f M tokens/s\n",
                name, best * 1e3, tokens / best / 1e6, bytes / best / 1e6, median * 1e3,
                tokens / median / 1e6);
    return tokens / median / 1e6;
  };
  report("cold", cold);
  const double warm_tps = report("warm", warm);
  report("nocache", nocache);
  report("decode", dec);
  std::printf("warm median vs HF anchor 0.45-0.50 M tokens/s: %.1fx-%.1fx\n", warm_tps / 0.50,
              warm_tps / 0.45);
  return 0;
}

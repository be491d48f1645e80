// MemorizationScanner: the per-row memorization score of EleutherAI/pythia
// predictable-memorization/eval_memorization.py (HEAD a19eecb), computed through CausalLm.
// Spec: shared/spec/memorization.md §3-5.
//
// Reference: model.generate(x[0:P], max_length=P+L, min_length=P+L) (greedy; min_length masks
// EOS = id 0 at every generated step), score = mean(g[P:P+L] == x[P:P+L]) (a multiple of 1/L,
// counting matches after the first divergence too); memorized iff score == 1.
//
// How (spec §4): a teacher-forced forward over x[0 .. P+L-2] with logits at positions
// P-1 .. P+L-2 gives A(p), the masked argmax (id 0 excluded under EodPolicy::kReference, ties to
// the lowest id, over all vocab_size() logits). The first mismatch m = min{t : A(t-1) != x[t]}
// (P+L when none) decides "memorized". For the exact score the cache is truncated to m and the
// rest is decoded greedily from g[m] = A(m-1) (P+L-1-m CausalLm::decode() steps, batched across
// the rows of one call). min_margin (spec §5) = min over the scored steps (teacher-forced positions
// P-1 .. m-1, or all when no mismatch, plus the decode steps) of top1 - top2 eligible logits.
// A NaN logit at a scored step flags the row: it gets no score.
//
// Staged teacher forcing (ScanConfig::stage_ends): the teacher-forced input may be fed in several
// forward() calls on the row's cache, stopping after the call that holds the first mismatch, so
// the positions after m (wasted for most rows of a real model, which mismatch early) are not
// computed. This changes no result when the model's logits do not depend on how a sequence is
// split into forward() calls: GptNeox guarantees that bit for bit (tests/model/
// split_invariance_test.cpp); the positions after m never enter a result. The stage plan is a
// fixed list, never a function of the batch or the threads.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "model/causal_lm.h"
#include "memorization/token_stats.h"
#include "results/memorization_file.h"

namespace pythia::memorization {

using results::RowScore;

enum class EodPolicy {
  kReference,  // id 0 never predicted (transformers MinLengthLogitsProcessor, min_length=P+L)
  kAllow,      // plain argmax over every id (non-reference; for analysis)
};

struct ScanConfig {
  int prefix_len = 32;        // P: tokens of the prompt x[0..P-1]
  int continuation_len = 32;  // L: tokens compared, x[P..P+L-1]
  EodPolicy eod_policy = EodPolicy::kReference;
  bool exact_score = true;    // false: "memorized only" (teacher-forced pass only; no decoding)
  model::Token eod_id = 0;    // <|endoftext|> of the GPT-NeoX-20B tokenizer
  // Teacher-forced stages: stage 0 feeds x[0 .. stage_ends[0]-1], stage k feeds
  // x[stage_ends[k-1] .. stage_ends[k]-1], each with logits at its positions >= P-1; a row stops
  // after the stage holding its first mismatch. REQUIRES: strictly increasing, first >= P, last
  // == P+L-1. Empty: one stage (a single forward() over x[0 .. P+L-2]).
  std::vector<int> stage_ends;
  int window() const { return prefix_len + continuation_len; }
};

// The stage plan the memorize job uses: ends P+1, P+5, P+13, P+L-1 (those below P+L-1): one
// forward over the prompt and the first continuation token, then 4, 8 and the rest. Chosen from
// measured forward() costs on the pythia-70m shape (a forward of c tokens costs ~5 ms + 0.45 ms
// per token at one thread, the prompt ~11 ms; a decode step ~0.57 ms per row at batch 64) for
// rows whose per-token greedy accuracy is 0.3 .. 0.7 (bench/bench_memorize.cpp, "synth" rows).
std::vector<int> default_stage_ends(int prefix_len, int continuation_len);

class MemorizationScanner {
 public:
  // REQUIRES: lm outlives the scanner; P >= 1, L >= 1, P + L - 1 <= lm.max_positions().
  MemorizationScanner(const model::CausalLm& lm, ScanConfig config);

  const ScanConfig& config() const { return config_; }
  int vocab_size() const { return lm_.vocab_size(); }

  // Scores rows.size() / window() rows: row b is windows[b*W .. (b+1)*W) (W = P+L), its index is
  // indices[b]; writes out[b]. Teacher-forced passes run in parallel (TBB) when `parallel`;
  // decode steps are batched across the rows that need them.
  // Determinism: out[b] depends only on row b's tokens (CausalLm's per-sequence contract), not on
  // the other rows, their number or the thread count. Thread-safe: concurrent calls are allowed.
  // REQUIRES: windows.size() == indices.size() * W == out.size() * W; tokens in [0, vocab_size).
  // `stats` (memorization/token_stats.h): when non-empty (size out.size() * L), also the
  // per-position statistics of row b at stats[b*L + k] (t = P + k), from the same teacher-forced
  // pass; that pass then covers all L positions (no staging), which changes no score.
  void score(std::span<const model::Token> windows, std::span<const std::uint64_t> indices,
             std::span<RowScore> out, bool parallel = true,
             std::span<TokenStat> stats = {}) const;

 private:
  // KV caches (W-1 positions each) kept from one score() call for the next: a fresh cache (4.7 MB
  // per row on the pythia-160m shape) costs its page faults again on every batch, measured 3-11 %
  // of a memorize run's CPU time. A reused cache is clear()ed; positions past its length are never
  // read, so results are the same bits. Holds at most the largest batch seen; thread-safe.
  struct CachePool {
    std::mutex mu;
    std::vector<model::KvCache> free;
    std::size_t cap = 0;
  };
  model::KvCache take_cache() const;
  void give_back(model::KvCache& cache) const;  // leaves `cache` empty

  const model::CausalLm& lm_;
  ScanConfig config_;
  std::shared_ptr<CachePool> pool_ = std::make_shared<CachePool>();
};

}  // namespace pythia::memorization

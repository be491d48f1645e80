// CausalLm: the one interface through which tasks, the memorization scanner and the commands
// run a model. GptNeox implements it; tests implement it with scripted logits (spec
// memorization.md §6).
//
// Determinism contract: the logits of a sequence depend only on the sequence of calls made on
// its own cache (how its tokens were split into forward() calls), never on the thread count or
// on which other sequences are being processed at the same time.
#pragma once

#include <functional>
#include <span>
#include <string>

#include "model/kv_cache.h"

namespace pythia::model {

// Receives one logit row (vocab_size() floats). `index` says which row (see each method).
// May be called concurrently from several threads, each index exactly once, in no fixed order;
// the span is valid only during the call.
using LogitSink = std::function<void(int index, std::span<const float> logits)>;

class CausalLm {
 public:
  virtual ~CausalLm() = default;

  // Width of a logit row: embed_out rows (50304 for Pythia), not the tokenizer's 50277.
  virtual int vocab_size() const = 0;
  // Longest sequence (positions) the model accepts: max_position_embeddings.
  virtual int max_positions() const = 0;
  // A cache for one sequence of at most `capacity` positions.
  virtual KvCache make_cache(int capacity) const = 0;

  // Feeds `tokens` at positions cache.length() ... and appends them to `cache`. For every
  // k, sink(logit_rows[k], row) receives the logits after token index logit_rows[k] (an index
  // into `tokens`, strictly increasing). Thread-safe for distinct caches.
  // REQUIRES: cache.length() + tokens.size() <= cache.capacity() <= max_positions().
  virtual void forward(std::span<const Token> tokens, KvCache& cache,
                       std::span<const int> logit_rows, const LogitSink& sink) const = 0;

  // One decoding step for B sequences at once: appends tokens[b] to *caches[b] and calls
  // sink(b, logits of sequence b). Batching amortises the weight reads; the result for sequence
  // b does not depend on B or on the other sequences.
  virtual void decode(std::span<const Token> tokens, std::span<KvCache* const> caches,
                      const LogitSink& sink) const = 0;

  // True when forward()'s logits for a sequence are bit-identical however its tokens are split
  // into forward() calls (one call, token by token, any chunking, truncate and re-feed). The
  // memorization scanner may then teacher-force in stages and stop at the first mismatch.
  // Default false: callers must keep one fixed split per sequence.
  virtual bool forward_is_split_invariant() const { return false; }

  // What computes the logits, for provenance in results files, e.g. "cpu fp32, packed GEMM
  // (avx512)". Describes the state at the time of the call.
  virtual std::string backend() const { return "unspecified"; }
};

}  // namespace pythia::model

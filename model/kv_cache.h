// KvCache: the mutable per-sequence state of a GPT-NeoX forward pass (llama2.c's RunState split):
// for every layer, the rotated keys and the values of every position fed so far.
//
// Layout: k and v of layer l are [H, capacity, D] row-major (head-major, so one head's keys are
// contiguous for the attention dot products). Position p of head h lives at ((h*capacity)+p)*D.
// A cache is owned by one thread at a time; GptNeox itself is const and shared.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace pythia::model {

using Token = std::int32_t;

class KvCache {
 public:
  KvCache() = default;
  // REQUIRES: all arguments >= 0. A cache with n_layer == 0 only records tokens (test stubs).
  KvCache(int n_layer, int n_head, int head_dim, int capacity);

  int capacity() const { return capacity_; }
  int length() const { return static_cast<int>(tokens_.size()); }
  // The tokens fed so far, position 0 first.
  std::span<const Token> tokens() const { return tokens_; }

  // Drops positions >= n (prefix reuse: keep the shared prefix, re-feed the rest).
  // REQUIRES: 0 <= n <= length().
  void truncate(int n);
  void clear() { truncate(0); }

  // Raw access for the forward pass. REQUIRES: layer < n_layer.
  float* k(int layer) { return k_.data() + layer_stride() * static_cast<std::size_t>(layer); }
  float* v(int layer) { return v_.data() + layer_stride() * static_cast<std::size_t>(layer); }
  const float* k(int layer) const { return k_.data() + layer_stride() * static_cast<std::size_t>(layer); }
  const float* v(int layer) const { return v_.data() + layer_stride() * static_cast<std::size_t>(layer); }
  int n_head() const { return n_head_; }
  int head_dim() const { return head_dim_; }

  // Called by the model after it has written the K/V entries of `tokens` at positions
  // length() .. length()+tokens.size()-1. REQUIRES: length() + tokens.size() <= capacity().
  void append(std::span<const Token> tokens);

 private:
  std::size_t layer_stride() const {
    return static_cast<std::size_t>(n_head_) * capacity_ * head_dim_;
  }
  int n_layer_ = 0, n_head_ = 0, head_dim_ = 0, capacity_ = 0;
  std::vector<float> k_, v_;
  std::vector<Token> tokens_;
};

}  // namespace pythia::model

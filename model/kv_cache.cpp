#include "model/kv_cache.h"

#include <stdexcept>

namespace pythia::model {

KvCache::KvCache(int n_layer, int n_head, int head_dim, int capacity)
    : n_layer_(n_layer), n_head_(n_head), head_dim_(head_dim), capacity_(capacity) {
  if (n_layer < 0 || n_head < 0 || head_dim < 0 || capacity < 0) {
    throw std::invalid_argument("KvCache: negative dimension");
  }
  const std::size_t n = layer_stride() * static_cast<std::size_t>(n_layer_);
  k_.assign(n, 0.0f);
  v_.assign(n, 0.0f);
  tokens_.reserve(static_cast<std::size_t>(capacity));
}

void KvCache::truncate(int n) {
  if (n < 0 || n > length()) throw std::out_of_range("KvCache::truncate: bad length");
  tokens_.resize(static_cast<std::size_t>(n));
}

void KvCache::append(std::span<const Token> tokens) {
  if (length() + static_cast<int>(tokens.size()) > capacity_) {
    throw std::out_of_range("KvCache::append: capacity exceeded");
  }
  tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
}

}  // namespace pythia::model

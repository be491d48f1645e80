#include "model/bpe.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <queue>

#include "data/error.h"
#include "model/pretokenizer.h"

namespace pythia::model {

namespace {
// Pieces up to this many bytes use the linear scan (stack arrays); longer ones the heap.
constexpr std::size_t kLinearMax = 64;
}  // namespace

// ---- MergeTable ------------------------------------------------------------------------------

void MergeTable::reserve(std::size_t n_merges) {
  std::size_t cap = 16;
  int bits = 4;
  while (cap < n_merges * 3) {  // load factor <= 1/3
    cap <<= 1;
    ++bits;
  }
  slots_.assign(cap, Entry{kEmptyKey, kNoMerge, -1});
  mask_ = cap - 1;
  shift_ = 64 - bits;
}

bool MergeTable::insert(std::int32_t left, std::int32_t right, std::uint32_t rank,
                        std::int32_t merged) {
  const std::uint64_t key = pack(left, right);
  std::size_t i = slot_of(key);
  while (slots_[i].key != kEmptyKey && slots_[i].key != key) i = (i + 1) & mask_;
  const bool fresh = slots_[i].key == kEmptyKey;
  slots_[i] = Entry{key, rank, merged};
  return fresh;
}

// ---- BpeModel --------------------------------------------------------------------------------

BpeModel::BpeModel(const std::unordered_map<std::string, std::int32_t>& vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges,
                   const std::string& where)
    : shards_(new Shard[kShards]) {
  for (int b = 0; b < 256; ++b) {
    // The single-character token of byte b in the byte-level alphabet.
    const std::string ch = bytes_to_byte_level(std::string(1, static_cast<char>(b)));
    const auto it = vocab.find(ch);
    // Bytes C0, C1 and F5..FF never occur in valid UTF-8 (and the 20B vocab lacks them); every
    // other byte needs a token.
    const bool never_in_utf8 = b == 0xC0 || b == 0xC1 || b >= 0xF5;
    if (it == vocab.end() && !never_in_utf8) {
      throw DataError(where, "BPE vocab lacks the byte-level token of byte " + std::to_string(b));
    }
    byte_id_[static_cast<std::size_t>(b)] = it == vocab.end() ? -1 : it->second;
  }
  merges_.reserve(merges.size());
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const auto ia = vocab.find(a), ib = vocab.find(b), iab = vocab.find(a + b);
    if (ia == vocab.end() || ib == vocab.end() || iab == vocab.end()) {
      throw DataError(where, "merge " + std::to_string(rank) + " '" + a + " " + b +
                                 "' uses a token that is not in the vocab");
    }
    // HF collects the merges into a HashMap, so a repeated pair keeps its last rank; do the same.
    merges_.insert(ia->second, ib->second, static_cast<std::uint32_t>(rank), iab->second);
  }
}

void BpeModel::clear_cache() const {
  for (std::size_t s = 0; s < kShards; ++s) {
    const std::lock_guard<std::mutex> lock(shards_[s].mu);
    shards_[s].map.clear();
  }
}

void BpeModel::encode_piece(std::string_view bytes, std::vector<std::int32_t>& out) const {
  if (bytes.size() == 1) {
    out.push_back(byte_id_[static_cast<unsigned char>(bytes[0])]);
    return;
  }
  if (!cache_enabled_ || bytes.size() > kMaxCachedBytes) {
    encode_piece_uncached(bytes, out);
    return;
  }
  const std::size_t h = std::hash<std::string_view>{}(bytes);
  Shard& shard = shards_[h % kShards];
  {
    const std::lock_guard<std::mutex> lock(shard.mu);
    const auto it = shard.map.find(bytes);
    if (it != shard.map.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const std::size_t first = out.size();
  encode_piece_uncached(bytes, out);
  const std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.map.size() < kShardCapacity) {
    shard.map.emplace(std::string(bytes),
                      std::vector<std::int32_t>(out.begin() + static_cast<std::ptrdiff_t>(first),
                                                out.end()));
  }
}

void BpeModel::encode_piece_uncached(std::string_view bytes, std::vector<std::int32_t>& out,
                                     BpeAlgorithm algo) const {
  if (algo == BpeAlgorithm::kAuto) {
    algo = bytes.size() <= kLinearMax ? BpeAlgorithm::kLinearScan : BpeAlgorithm::kHeap;
  }
  if (algo == BpeAlgorithm::kLinearScan) {
    merge_linear(bytes, out);
  } else {
    merge_heap(bytes, out);
  }
}

// Linear scan: sym[0..n) are the current symbols, rank[i]/merged[i] describe pair (i, i+1).
// Each step merges the first pair of lowest rank and shifts the tails left by one.
void BpeModel::merge_linear(std::string_view bytes, std::vector<std::int32_t>& out) const {
  std::vector<std::int32_t> heap_sym;
  std::vector<std::uint32_t> heap_rank;
  std::vector<std::int32_t> heap_merged;
  std::int32_t sym_buf[kLinearMax];
  std::uint32_t rank_buf[kLinearMax];
  std::int32_t merged_buf[kLinearMax];
  std::size_t n = bytes.size();
  if (n == 0) return;
  std::int32_t* sym = sym_buf;
  std::uint32_t* rank = rank_buf;
  std::int32_t* merged = merged_buf;
  if (n > kLinearMax) {  // only when a caller forces kLinearScan on a long piece (tests)
    heap_sym.resize(n);
    heap_rank.resize(n);
    heap_merged.resize(n);
    sym = heap_sym.data();
    rank = heap_rank.data();
    merged = heap_merged.data();
  }
  for (std::size_t i = 0; i < n; ++i) sym[i] = byte_id_[static_cast<unsigned char>(bytes[i])];
  for (std::size_t i = 0; i + 1 < n; ++i) rank[i] = merges_.find(sym[i], sym[i + 1], merged[i]);
  while (n > 1) {
    std::size_t best = 0;
    std::uint32_t best_rank = rank[0];
    for (std::size_t i = 1; i + 1 < n; ++i) {
      if (rank[i] < best_rank) {
        best_rank = rank[i];
        best = i;
      }
    }
    if (best_rank == MergeTable::kNoMerge) break;
    sym[best] = merged[best];
    const std::size_t tail = n - best - 2;  // symbols after best+1, pairs after best
    std::memmove(sym + best + 1, sym + best + 2, tail * sizeof(*sym));
    std::memmove(rank + best, rank + best + 1, tail * sizeof(*rank));
    std::memmove(merged + best, merged + best + 1, tail * sizeof(*merged));
    --n;
    if (best > 0) rank[best - 1] = merges_.find(sym[best - 1], sym[best], merged[best - 1]);
    if (best + 1 < n) rank[best] = merges_.find(sym[best], sym[best + 1], merged[best]);
  }
  out.insert(out.end(), sym, sym + n);
}

// Heap over a doubly linked list of symbols, as HF's Word::merge_all: pop the (rank, position)
// minimum, skip it if stale (a side was merged away or the pair changed), merge, push the two
// new neighbour pairs.
void BpeModel::merge_heap(std::string_view bytes, std::vector<std::int32_t>& out) const {
  struct Sym {
    std::int32_t id;
    std::int32_t prev, next;  // -1 = none
    bool alive;
  };
  struct Cand {
    std::uint32_t rank;
    std::int32_t pos;
    std::int32_t merged;
    bool operator>(const Cand& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  const auto n = static_cast<std::int32_t>(bytes.size());
  if (n == 0) return;
  std::vector<Sym> syms(static_cast<std::size_t>(n));
  for (std::int32_t i = 0; i < n; ++i) {
    syms[static_cast<std::size_t>(i)] = {byte_id_[static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)])],
                                         i - 1, i + 1 < n ? i + 1 : -1, true};
  }
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  const auto push_pair = [&](std::int32_t pos) {
    const Sym& s = syms[static_cast<std::size_t>(pos)];
    if (s.next < 0) return;
    std::int32_t m = -1;
    const std::uint32_t r = merges_.find(s.id, syms[static_cast<std::size_t>(s.next)].id, m);
    if (r != MergeTable::kNoMerge) heap.push({r, pos, m});
  };
  for (std::int32_t i = 0; i + 1 < n; ++i) push_pair(i);
  while (!heap.empty()) {
    const Cand c = heap.top();
    heap.pop();
    Sym& s = syms[static_cast<std::size_t>(c.pos)];
    if (!s.alive || s.next < 0) continue;
    Sym& right = syms[static_cast<std::size_t>(s.next)];
    std::int32_t m = -1;
    const std::uint32_t r = merges_.find(s.id, right.id, m);
    if (r != c.rank || m != c.merged) continue;  // stale entry
    s.id = c.merged;
    right.alive = false;
    s.next = right.next;
    if (s.next >= 0) syms[static_cast<std::size_t>(s.next)].prev = c.pos;
    if (s.prev >= 0) push_pair(s.prev);
    push_pair(c.pos);
  }
  for (std::int32_t i = 0; i >= 0; i = syms[static_cast<std::size_t>(i)].next) {
    out.push_back(syms[static_cast<std::size_t>(i)].id);
  }
}

}  // namespace pythia::model

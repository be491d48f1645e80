// Byte-level BPE model: the merge loop of Hugging Face tokenizers (0.23.2, `models/bpe/word.rs`
// `Word::merge_all`, dropout = none), on raw bytes instead of byte-level strings.
//
// A pre-token's bytes start as one symbol per byte (the id of that byte's single-character
// token). Then, repeatedly, the adjacent pair with the lowest merge rank is merged, the leftmost
// one among equal ranks, until no adjacent pair has a merge. (HF pops (rank, position) from a
// heap; that is the same rule.) Two implementations give identical results: a linear scan over a
// small array for short pieces and a heap over a linked list for long ones (O(n log n)).
//
// Thread safety: immutable after construction except for the piece cache, which is sharded with
// one mutex per shard; encode_piece may be called from any number of threads at once.
#pragma once

#include <array>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pythia::model {

// (left id, right id) -> (rank, merged id); open addressing, read-only after construction.
class MergeTable {
 public:
  void reserve(std::size_t n_merges);
  // Returns false if the pair is already present (the first rank wins, as in HF's HashMap build
  // where a later duplicate would be a different rank for the same pair: we keep the lowest).
  bool insert(std::int32_t left, std::int32_t right, std::uint32_t rank, std::int32_t merged);
  // Rank of the pair, or kNoMerge; sets `merged` when found.
  std::uint32_t find(std::int32_t left, std::int32_t right, std::int32_t& merged) const {
    const std::uint64_t key = pack(left, right);
    std::size_t i = slot_of(key);
    for (;;) {
      const Entry& e = slots_[i];
      if (e.key == key) {
        merged = e.merged;
        return e.rank;
      }
      if (e.key == kEmptyKey) return kNoMerge;
      i = (i + 1) & mask_;
    }
  }
  static constexpr std::uint32_t kNoMerge = 0xFFFFFFFFu;

 private:
  struct Entry {
    std::uint64_t key;
    std::uint32_t rank;
    std::int32_t merged;
  };
  static constexpr std::uint64_t kEmptyKey = ~std::uint64_t{0};
  static std::uint64_t pack(std::int32_t l, std::int32_t r) {
    return (std::uint64_t{static_cast<std::uint32_t>(l)} << 32) | static_cast<std::uint32_t>(r);
  }
  std::size_t slot_of(std::uint64_t key) const {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  std::vector<Entry> slots_;
  std::size_t mask_ = 0;
  int shift_ = 64;
};

enum class BpeAlgorithm { kAuto, kLinearScan, kHeap };

class BpeModel {
 public:
  // `vocab`: token (byte-level alphabet string) -> id. `merges`: pairs of tokens in rank order
  // (rank = index). Every single-byte token must be in the vocab (except bytes C0, C1, F5..FF,
  // which valid UTF-8 never contains), and every merge's parts and
  // their concatenation too. Throws DataError(where, problem) otherwise.
  BpeModel(const std::unordered_map<std::string, std::int32_t>& vocab,
           const std::vector<std::pair<std::string, std::string>>& merges,
           const std::string& where);
  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  // Appends the ids of one pre-token given as raw bytes. Uses the cache.
  // REQUIRES: non-empty, and valid UTF-8 (so every byte has a token).
  void encode_piece(std::string_view bytes, std::vector<std::int32_t>& out) const;
  // Same without the cache, with a chosen implementation (tests compare them).
  void encode_piece_uncached(std::string_view bytes, std::vector<std::int32_t>& out,
                             BpeAlgorithm algo = BpeAlgorithm::kAuto) const;

  // Enables or disables the piece cache (default on); for benchmarks. Not thread-safe.
  void set_cache_enabled(bool on) { cache_enabled_ = on; }
  // Empties the cache (benchmarks' cold runs). Thread-safe.
  void clear_cache() const;

 private:
  void merge_linear(std::string_view bytes, std::vector<std::int32_t>& out) const;
  void merge_heap(std::string_view bytes, std::vector<std::int32_t>& out) const;

  std::array<std::int32_t, 256> byte_id_{};
  MergeTable merges_;

  // Piece cache: raw bytes -> ids. Bounded; when a shard is full, new pieces are not stored.
  struct PieceHash {  // heterogeneous lookup: find(string_view) without a temporary string
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::vector<std::int32_t>, PieceHash, std::equal_to<>> map;
  };
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kShardCapacity = 4096;
  static constexpr std::size_t kMaxCachedBytes = 64;
  std::unique_ptr<Shard[]> shards_;
  bool cache_enabled_ = true;
};

}  // namespace pythia::model

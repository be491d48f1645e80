// IndexedDataset: reader of Megatron `MMapIndexedDataset` files (PREFIX.idx + PREFIX.bin), the
// format of Pythia's training data (EleutherAI/pythia utils/mmap_dataset.py incl. the int-overflow
// fix 52a1523; gpt-neox v1.0 megatron/data/indexed_dataset.py). Spec: shared/spec/memorization.md §1-2.
//
// Layout (all little-endian, nothing aligned):
//   .idx  0  9 bytes  magic "MMIDIDX\0\0"      (legacy "TNTIDX\0\0" is rejected)
//         9  u64      version == 1
//        17  u8       dtype code (1 u8, 2 i8, 3 i16, 4 i32, 5 i64, 6 f32, 7 f64, 8 u16)
//        18  u64      N items,   26  u64  D doc_idx entries
//        34  i32[N]   sizes (tokens per item)
//   34 + 4N  i64[N]   pointers (byte offset of each item in .bin; unaligned: read with memcpy)
//  34 + 12N  i64[D]   doc_idx (not used)           file size == 34 + 12N + 8D
//   .bin  the items' tokens back to back. It may also be split into byte shards
//         PREFIX-00000-of-000KK.bin ... PREFIX-000KK-of-000KK.bin (KK = index of the last shard;
//         all but the last have shard 0's size), read as their concatenation (spec §2.1).
//
// Every offset and sum is 64-bit; only sizes[i] is stored as i32. Token dtypes: 8 (uint16, all
// Pythia files) and 4 (int32); 1/2/3 are read too; 5 and the float codes are refused.
// Thread safety: const methods may be called concurrently (read-only memory maps).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace pythia::data {

class IndexedDataset {
 public:
  // Opens PREFIX.idx and PREFIX.bin (or its shards). `prefix` may end in ".idx" or ".bin" (or
  // "-00000-of-000KK.bin"); the suffix is stripped as Pythia's readers do.
  // Validates magic, version, dtype, N >= 1, D >= 1 and the .idx size formula.
  // Throws DataError naming the file and the problem.
  explicit IndexedDataset(const std::string& prefix);
  ~IndexedDataset();
  IndexedDataset(IndexedDataset&&) noexcept;
  IndexedDataset& operator=(IndexedDataset&&) noexcept;

  std::uint64_t size() const { return n_items_; }        // N
  std::uint64_t doc_count() const { return n_docs_; }    // D
  int dtype_code() const { return dtype_code_; }
  int itemsize() const { return itemsize_; }
  std::int32_t item_size(std::uint64_t i) const;          // sizes[i]; REQUIRES i < size()
  std::uint64_t pointer(std::uint64_t i) const;           // pointers[i]; REQUIRES i < size()
  std::uint64_t bin_bytes() const { return bin_bytes_; }  // total .bin size (all shards)

  const std::filesystem::path& idx_path() const { return idx_path_; }
  // PREFIX.bin, or the shard files in order.
  const std::vector<std::filesystem::path>& bin_paths() const { return bin_paths_; }

  // Copies tokens [0, out.size()) of item i into `out`. Throws DataError when i >= size(), when
  // the item has fewer tokens, when sizes[i] < 0, or when the item lies outside the .bin.
  void read_tokens(std::uint64_t i, std::span<std::int32_t> out) const;
  // All tokens of item i.
  std::vector<std::int32_t> row(std::uint64_t i) const;

  // The preshuffled-layout check of spec §2.1 for items [begin, end): sizes[i] == row_tokens and
  // pointers[i] == row_tokens * itemsize * i. Throws DataError naming the first bad item.
  void check_preshuffled(std::uint64_t begin, std::uint64_t end, int row_tokens = 2049) const;

 private:
  struct Maps;
  std::unique_ptr<Maps> maps_;
  std::filesystem::path idx_path_;
  std::vector<std::filesystem::path> bin_paths_;
  std::uint64_t n_items_ = 0, n_docs_ = 0, bin_bytes_ = 0;
  int dtype_code_ = 0, itemsize_ = 0;
};

// Strips ".idx", ".bin" or "-NNNNN-of-NNNNN.bin" from a dataset path (spec §1, §2.1).
std::string strip_dataset_suffix(const std::string& path);

}  // namespace pythia::data

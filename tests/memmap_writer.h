// Test helper: writes a Megatron MMapIndexedDataset (`.idx` + `.bin`, version 1, uint16 tokens)
// in Pythia's preshuffled layout: R documents of `len` tokens each, one document per row, token t
// of row i = token(i, t). Header-only; the format is data/indexed_dataset.h's.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>

namespace pythia::testing {

namespace memmap_detail {
template <typename T>
void put(std::ofstream& f, T v) {
  f.write(reinterpret_cast<const char*>(&v), sizeof v);
}
}  // namespace memmap_detail

// Writes prefix.idx and prefix.bin. `token(i, t)` gives the id at row i, position t (< 65536).
template <typename TokenFn>
void write_preshuffled_memmap(const std::filesystem::path& prefix, int R, int len, TokenFn&& token) {
  using memmap_detail::put;
  std::ofstream idx(prefix.string() + ".idx", std::ios::binary);
  idx.write("MMIDIDX\0\0", 9);
  put<std::uint64_t>(idx, 1);  // version
  put<std::uint8_t>(idx, 8);   // dtype code 8 = uint16
  put<std::uint64_t>(idx, static_cast<std::uint64_t>(R));      // sizes
  put<std::uint64_t>(idx, static_cast<std::uint64_t>(R + 1));  // doc_idx entries
  for (int i = 0; i < R; ++i) put<std::int32_t>(idx, len);
  for (int i = 0; i < R; ++i) put<std::int64_t>(idx, static_cast<std::int64_t>(i) * len * 2);
  for (int i = 0; i <= R; ++i) put<std::int64_t>(idx, i);
  std::ofstream bin(prefix.string() + ".bin", std::ios::binary);
  for (int i = 0; i < R; ++i) {
    for (int t = 0; t < len; ++t) put<std::uint16_t>(bin, static_cast<std::uint16_t>(token(i, t)));
  }
}

}  // namespace pythia::testing

// Megatron MMapIndexedDataset (data/indexed_dataset.h): the .idx header and tables against the
// .bin (one file or byte shards), then reading items and the preshuffled-layout check, from files.
//
// Input layout: byte 0 = mode, bytes 1-2 = length L of the .idx (u16 little-endian), then L bytes
// of .idx, then the .bin bytes.
//   mode & 3: 0 = one PREFIX.bin, k = the .bin cut into k + 1 byte shards
//             PREFIX-0000i-of-0000k.bin (all but the last of equal size, as spec §2.1 wants);
//   mode & 4: open as "PREFIX.idx" instead of the bare prefix;
//   mode >> 4: row_tokens - 1 for check_preshuffled.
#include <algorithm>
#include <cstdio>
#include <string>

#include "data/indexed_dataset.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pythia;
  if (size < 3) return 0;
  const unsigned mode = data[0];
  const std::size_t idx_len = std::min<std::size_t>(data[1] | (std::size_t{data[2]} << 8), size - 3);
  const std::string_view idx = fuzz::as_text(data + 3, idx_len);
  const std::string_view bin = fuzz::as_text(data + 3 + idx_len, size - 3 - idx_len);

  fuzz::clear_scratch();
  const std::string prefix = (fuzz::scratch_dir() / "document").string();
  fuzz::write_file(prefix + ".idx", idx);
  const std::size_t last = mode & 3;
  if (last == 0) {
    fuzz::write_file(prefix + ".bin", bin);
  } else {
    const std::size_t shard = (bin.size() + last) / (last + 1);  // ceil: the last one is smallest
    char name[32];
    for (std::size_t k = 0; k <= last; ++k) {
      std::snprintf(name, sizeof name, "-%05zu-of-%05zu.bin", k, last);
      const std::size_t b = std::min(bin.size(), k * shard);
      fuzz::write_file(prefix + name, bin.substr(b, shard));
    }
  }
  fuzz::expect_clean([&] {
    const data::IndexedDataset ds((mode & 4) ? prefix + ".idx" : prefix);
    const std::uint64_t n = std::min<std::uint64_t>(ds.size(), 64);
    for (std::uint64_t i = 0; i < n; ++i) {
      fuzz::expect_clean([&] { (void)ds.row(i); });
    }
    fuzz::expect_clean([&] { ds.check_preshuffled(0, n, static_cast<int>(mode >> 4) + 1); });
    fuzz::expect_clean([&] { (void)ds.row(ds.size()); });  // past the end: DataError
  });
  return 0;
}

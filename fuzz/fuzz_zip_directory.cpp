// The zip central-directory reader (model/zip_directory.h), which must never throw and must only
// return entries whose data lies inside the archive (torch_checkpoint.cpp maps them in place).
#include <cstdlib>

#include "fuzz/fuzz_util.h"
#include "model/zip_directory.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto dir = pythia::model::read_zip_directory(pythia::fuzz::as_bytes(data, size));
  if (!dir) return 0;
  for (const auto& [name, e] : *dir) {
    if (e.data_offset > size || e.compressed_size > size - e.data_offset) std::abort();  // contract
    (void)pythia::fuzz::touch(pythia::fuzz::as_bytes(data + e.data_offset,
                                                     static_cast<std::size_t>(e.compressed_size)));
  }
  return 0;
}

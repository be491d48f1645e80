// Locating stored (uncompressed) zip entries inside a memory-mapped archive, so that the storages
// of a multi-GB pytorch_model.bin are used in place instead of being copied.
//
// Reads the central directory (PKWARE APPNOTE.TXT 6.3.9 §4.3.12, §4.3.16; zip64 §4.3.14-15 and
// the 0x0001 extra field §4.5.3) and each entry's local header (§4.3.7) to find where its data
// starts. libzip remains the authority on whether the archive is valid (torch_checkpoint.cpp
// opens it with libzip first and cross-checks sizes and methods); this index is only used to
// point into the mapping, and any inconsistency makes the caller fall back to reading through
// libzip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>

namespace pythia::model {

struct ZipEntryLocation {
  std::uint16_t method = 0;         // 0 = stored
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t size = 0;           // uncompressed
  std::uint64_t data_offset = 0;    // first byte of the (compressed) data in the archive
};

// Every entry by name, or nullopt if the directory cannot be read consistently (truncated,
// prefixed archive, offsets out of range, ...). Never throws for malformed input.
std::optional<std::map<std::string, ZipEntryLocation>> read_zip_directory(
    std::span<const std::byte> archive);

}  // namespace pythia::model

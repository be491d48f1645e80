// SHA-256 (FIPS 180-4) of byte strings and files, for the data-file checksums recorded in
// memorization.json (spec memorization.md §2.1 "Checksums"). Pure; thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace pythia::data {

class Sha256 {
 public:
  Sha256();
  void update(std::span<const unsigned char> bytes);
  std::string hex_digest();  // finishes the hash; call once

 private:
  void block(const unsigned char* p);
  std::uint32_t h_[8];
  unsigned char buf_[64];
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

// Lower-case hex SHA-256 of a whole file (read in 1 MiB chunks). Throws DataError naming the file.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace pythia::data

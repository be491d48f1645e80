// MappedFile: a whole file memory-mapped read-only (RAII). The loader's way to read multi-GB
// checkpoints without copying them: pages are brought in by the OS as tensors are touched.
//
// Sizes are 64-bit throughout (Pythia-12B shards are several GB). An empty file is valid and
// maps to an empty span (mmap of length 0 is not attempted).
// Thread safety: immutable after construction; bytes() may be read from any number of threads.
// Errors: DataError naming the file (cannot open, not a regular file, mmap failure).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace pythia::data {

class MappedFile {
 public:
  // Opens and maps `path`. Throws DataError(path, reason) on failure.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::uint64_t size() const { return size_; }
  // The whole file. Valid while this object lives (moving keeps the mapping valid).
  std::span<const std::byte> bytes() const {
    return {static_cast<const std::byte*>(data_), static_cast<std::size_t>(size_)};
  }

 private:
  void release() noexcept;

  std::filesystem::path path_;
  void* data_ = nullptr;
  std::uint64_t size_ = 0;
};

}  // namespace pythia::data

// FileDigestCache: SHA-256 of files, remembered per file in a small cache file so that a sweep over
// many checkpoints (and later sweeps) does not re-read gigabytes of weights it hashed before.
//
// Key: the file's absolute path, its size in bytes and its modification time (nanoseconds). A
// cached digest is used only when all three still match; anything else re-hashes the file
// (data/sha256.h). Content changes that keep size and mtime are not noticed (the same trade as
// make/rsync); `--hash-cache none` (harness) hashes every time.
//
// Cache file (JSON, written atomically through data/atomic_file.h after every new digest):
//   {"format": "pythia-harness file-sha256 cache", "version": 1,
//    "files": {"/abs/path": {"bytes": N, "mtime_ns": M, "sha256": "<64 hex>"}, ...}}
// On save the file on disk is re-read and merged (entries of other processes kept, ours win), so
// concurrent sweeps lose at most work, never correctness. A cache file that cannot be parsed, or
// has another format/version, or a malformed entry, is ignored with a warning on stderr ("warning:
// <file>: ... ; digests will be recomputed") and rewritten; a cache that cannot be written is a
// warning too (the digests are still returned). The cache never changes a digest's value.
//
// Thread safety: sha256() may be called from several threads (one mutex; hashing runs unlocked).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

namespace pythia::data {

class FileDigestCache {
 public:
  // `cache_file` empty = no cache file (memory only, for this object's lifetime).
  explicit FileDigestCache(std::filesystem::path cache_file);

  // Lower-case hex SHA-256 of `file`'s content. DataError naming the file if it cannot be read.
  std::string sha256(const std::filesystem::path& file);

  // How many files this object actually read and hashed (cache misses); tests and logs use it.
  std::uint64_t files_hashed() const { return files_hashed_.load(); }
  // Bytes read for those.
  std::uint64_t bytes_hashed() const { return bytes_hashed_.load(); }
  const std::filesystem::path& cache_file() const { return cache_file_; }

 private:
  struct Entry {
    std::uint64_t bytes = 0;
    std::int64_t mtime_ns = 0;
    std::string sha256;
  };
  // Entries of the cache file; warns and returns what could be read on a corrupt file.
  std::map<std::string, Entry> load(bool warn) const;
  void save();

  std::filesystem::path cache_file_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
  std::atomic<std::uint64_t> files_hashed_{0}, bytes_hashed_{0};
};

// The default cache file: $PYTHIA_HARNESS_CACHE/file-sha256.json, else
// $XDG_CACHE_HOME/pythia-harness/file-sha256.json, else ~/.cache/pythia-harness/file-sha256.json.
std::filesystem::path default_digest_cache_file();

}  // namespace pythia::data

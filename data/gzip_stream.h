// gzip streams: THE reader and THE writer of compressed files in the project.
//
// GzipReader reads a plain or gzip file in chunks (zlib's gzread passes an uncompressed file
// through unchanged, so "x.csv" and "x.csv.gz" read the same way); read_whole_file() reads all
// of it. AtomicGzipWriter writes a deterministic gzip file: zlib level 6, no file name, mtime 0,
// input deflated in fixed 64 KiB chunks, so equal text gives byte-equal files (what `merge` and
// the regression baselines rely on); the file appears atomically on commit() (data/atomic_file.h).
//
// Errors: DataError naming the file (cannot open, corrupt gzip data, write failure).
// Thread safety: one object, one owner.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "data/atomic_file.h"

namespace pythia::data {

class GzipReader {
 public:
  explicit GzipReader(const std::filesystem::path& path);  // DataError: missing / unopenable
  ~GzipReader();
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  // Reads up to `n` bytes into `buf`; returns how many (0 at the end). DataError on corrupt data.
  std::size_t read(char* buf, std::size_t n);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  void* gz_ = nullptr;  // gzFile
};

// The whole file as bytes (gunzipped when compressed). Throws DataError naming the file.
std::string read_whole_file(const std::filesystem::path& path);

// True if `path` starts with the gzip magic bytes 1f 8b.
bool is_gzip_file(const std::filesystem::path& path);

// Streams text into a deterministic gzip file that appears at `path` only on commit().
class AtomicGzipWriter {
 public:
  explicit AtomicGzipWriter(std::filesystem::path path);
  ~AtomicGzipWriter();  // without commit(): removes the temporary file
  AtomicGzipWriter(const AtomicGzipWriter&) = delete;
  AtomicGzipWriter& operator=(const AtomicGzipWriter&) = delete;
  void write(std::string_view text);
  void commit();

 private:
  void deflate_chunk(bool finish);
  struct Deflater;
  AtomicFile file_;
  std::unique_ptr<Deflater> z_;
  std::string staging_;
};

}  // namespace pythia::data

// Line-oriented readers for evaluation data files, plain or gzip-compressed.
//
// Compression is detected from the content (gzip magic bytes), not the file name: zlib's gzread
// passes uncompressed files through unchanged, so "x.jsonl" and "x.jsonl.gz" read the same way.
// Lines end at '\n'; a trailing '\r' is NOT removed (the files we read use '\n' only, and lm-eval
// / Python's json.loads would keep any other character as part of the text).
//
// Errors: a missing or unreadable file, a gzip stream error, or a line that is not valid JSON
// throws DataError naming "<file>:<line>" and the problem. Not thread-safe per object.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/gzip_stream.h"

namespace pythia::data {

// Sequential line reader over a plain or gzip file.
class LineReader {
 public:
  // Opens `path`. Throws DataError if it does not exist or cannot be opened.
  explicit LineReader(const std::filesystem::path& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Reads the next line (without its '\n') into `line`; returns false at end of file. A final
  // line without '\n' is returned; an empty last piece after a final '\n' is not.
  bool next(std::string& line);
  // 1-based number of the line last returned by next() (0 before the first).
  std::int64_t line_number() const { return line_no_; }
  const std::filesystem::path& path() const { return path_; }
  // "<path>:<line>" for error messages.
  std::string where() const;

 private:
  bool fill();
  std::filesystem::path path_;
  std::unique_ptr<GzipReader> in_;
  std::vector<char> buf_;
  std::size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  std::int64_t line_no_ = 0;
};

// Calls fn(line_number, value) for every line of a JSON-lines file, in order. Blank lines
// (empty or only whitespace) are skipped. Throws DataError("<path>:<line>", ...) on invalid JSON;
// exceptions thrown by fn propagate unchanged.
void for_each_jsonl(const std::filesystem::path& path,
                    const std::function<void(std::int64_t line, const nlohmann::json&)>& fn);

// Every line of a JSON-lines file parsed (blank lines skipped).
std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path);

// Every line of a text file (the '\n' removed; no empty piece after a final '\n').
std::vector<std::string> read_lines(const std::filesystem::path& path);

}  // namespace pythia::data

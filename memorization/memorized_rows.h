// MemorizedRows: the memorized rows of one checkpoint's scan as an increasing stream of row
// indices, read without holding the scan in memory, for the cross-checkpoint analysis
// (memorization/cross_checkpoint.h).
//
// Sources:
//   - the scores CSV (`index,score` lines, plain or gzip, results/memorization_file.h): streamed
//     line by line; a row is memorized when score >= min_score (default 1.0: "score == 1", spec
//     memorization.md §3.6; "nan" is never memorized). Indices must not decrease (our files are
//     strictly increasing); a repeated index counts once (memorized if any of its lines is).
//     Memory: one gzip reader and a 64 KiB buffer.
//   - a list of indices (memorization.json `memorized_indices`, for --memorized-only scans that
//     write no CSV): sorted, de-duplicated and kept delta+LEB128-encoded (about 1-3 bytes a row).
// Errors: DataError naming file:line for a malformed line or a decreasing index.
// Thread safety: one object, one owner.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace pythia::data {
class GzipReader;
}

namespace pythia::memorization {

inline constexpr std::uint64_t kEndOfRows = std::numeric_limits<std::uint64_t>::max();

class MemorizedRows {
 public:
  // Streams the scores CSV at `path`.
  static MemorizedRows from_scores_csv(const std::filesystem::path& path, double min_score);
  // Encodes `indices` (any order; negative entries are a DataError naming `name`).
  static MemorizedRows from_indices(std::vector<std::int64_t> indices, const std::string& name);

  MemorizedRows(MemorizedRows&&) noexcept;
  MemorizedRows& operator=(MemorizedRows&&) noexcept;
  ~MemorizedRows();

  // The next memorized row index (increasing, each once), or kEndOfRows.
  std::uint64_t next();
  // The index next() would return, without consuming it.
  std::uint64_t peek();
  // CSV sources only, instead of next(): the next line's (index, value) whatever the value (the
  // same parsing and order checks; used for `index,count` files). False at the end.
  bool next_pair(std::uint64_t& index, double& value);
  // Sets bit (i - begin) of `bits` for every memorized row i in [begin, end) and consumes them.
  // REQUIRES: calls with increasing, non-overlapping ranges; `bits` holds (end-begin+63)/64 words.
  // Returns how many rows were set.
  std::uint64_t fill(std::uint64_t begin, std::uint64_t end, std::uint64_t* bits);

  // Bytes this object holds (the encoded list, or the reader's buffers).
  std::size_t memory_bytes() const;

 private:
  MemorizedRows();
  std::uint64_t next_from_csv();
  bool read_line(std::string& line);

  // CSV source
  std::unique_ptr<data::GzipReader> reader_;
  std::string path_;
  std::vector<char> buf_;
  std::string line_;
  std::size_t buf_pos_ = 0, buf_len_ = 0;
  std::uint64_t line_no_ = 0;
  double min_score_ = 1.0;
  bool have_last_ = false;
  std::uint64_t last_index_ = 0;  // last index read from the CSV
  std::uint64_t last_emitted_ = kEndOfRows;
  // encoded source
  std::vector<std::uint8_t> encoded_;
  std::size_t enc_pos_ = 0;
  std::uint64_t enc_value_ = 0;
  bool enc_first_ = true;
  // look-ahead for fill()
  std::uint64_t peeked_ = 0;
  bool have_peek_ = false;
};

}  // namespace pythia::memorization

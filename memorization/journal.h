// MemorizationJournal: the append-only record of finished row blocks that lets an interrupted
// `memorize` (kill -9 at any moment) resume without losing or repeating a row.
//
// File (little-endian):
//   header  "PYMEMJ01" | u32 n | n bytes of configuration text | u32 crc32(n bytes)
//   block*  u32 0x314b4c42 ("BLK1") | u64 first | u32 count | count x 8-byte rows | u32 crc32
//           row: u8 flags (1 nan, 2 memorized, 4 score_known, 8 eod_in_target) | u8 matches |
//                u16 first_mismatch | f32 min_margin
// Every block is written with one write() and made durable with fdatasync() before the next.
// On open, blocks are read until the end or the first torn/corrupt block, and the file is
// truncated there (a kill during a write loses at most the block being written). A journal
// written with a different configuration text is refused (UsageError listing the differing keys
// when the text is JSON), so a resumed run can never mix two configurations.
// The file is flock()ed while open: a second process on the same folder is refused (UsageError).
// Thread safety: none; one owner (the pipeline's serial output stage appends).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "memorization/scanner.h"

namespace pythia::memorization {

// The journal's file name inside a scan's output folder (its presence means "not finished").
inline constexpr const char* kJournalFile = "memorization.journal";

struct JournalBlock {
  std::uint64_t first = 0;    // index of the block's first row
  std::uint32_t count = 0;    // rows first .. first+count-1
  std::uint64_t offset = 0;   // byte offset of its first row record in the file
};

class MemorizationJournal {
 public:
  // Opens `path` (creating it with `config` when absent). Throws UsageError on a configuration
  // mismatch, DataError when the header is unreadable or blocks overlap.
  MemorizationJournal(std::filesystem::path path, const std::string& config);
  ~MemorizationJournal();
  MemorizationJournal(const MemorizationJournal&) = delete;
  MemorizationJournal& operator=(const MemorizationJournal&) = delete;

  // Valid blocks, in file order.
  const std::vector<JournalBlock>& blocks() const { return blocks_; }
  std::uint64_t rows_done() const { return rows_done_; }
  // Bytes dropped from a torn tail when the file was opened (0 normally).
  std::uint64_t truncated_bytes() const { return truncated_; }

  // Appends rows (their indices must be first, first+1, ...), durably. Throws DataError on I/O
  // errors.
  void append(std::uint64_t first, std::span<const RowScore> rows);

  // The rows of a block (index fields filled in).
  std::vector<RowScore> read(const JournalBlock& b) const;

  // Closes and deletes the file.
  void remove();

  const std::filesystem::path& path() const { return path_; }

 private:
  void load(bool existed, const std::string& config);  // the constructor's body after flock

  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<JournalBlock> blocks_;
  std::uint64_t rows_done_ = 0, truncated_ = 0, end_ = 0;
};

}  // namespace pythia::memorization

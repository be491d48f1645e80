// The memorize journal (memorization/journal.h): header, configuration check, blocks up to the
// first torn or corrupt one, overlap check, then append + reopen, from a file.
//
// Input: byte 0 = mode, the rest = the journal file `memorization.journal`.
//   mode & 1: open with the configuration text stored in the file's header (when it has one), so
//             the blocks are reached; else with a fixed JSON configuration (mismatch path);
//   mode & 2: after a successful open, append a block of (mode >> 4) + 1 rows after the last
//             journalled row and reopen.
// Errors must be DataError / UsageError. Contract checks (abort = finding): rows_done() is the
// sum of the block counts, read() gives each block's rows with their indices, a block appended
// to an opened journal is found again, intact, by the next open with nothing truncated.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "fuzz/fuzz_util.h"
#include "memorization/journal.h"

namespace {

using pythia::memorization::MemorizationJournal;
using pythia::results::RowScore;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "contract violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pythia;
  if (size == 0) return 0;
  const unsigned mode = data[0];
  const std::string_view file = fuzz::as_text(data + 1, size - 1);
  std::string config = R"({"model":"m","prefix_len":32,"continuation_len":32})";
  if ((mode & 1) && file.size() >= 12) {
    std::uint32_t n = 0;
    std::memcpy(&n, file.data() + 8, 4);
    if (std::size_t{n} <= file.size() - 12) config = std::string(file.substr(12, n));
  }
  fuzz::clear_scratch();
  const auto path = fuzz::scratch_dir() / "memorization.journal";
  fuzz::write_file(path, file);

  std::optional<std::uint64_t> next;  // first row after the journalled ones
  std::size_t nblocks = 0;
  fuzz::expect_clean([&] {
    MemorizationJournal j(path, config);
    std::uint64_t sum = 0, end = 0;
    for (const auto& b : j.blocks()) {
      const auto rows = j.read(b);
      check(rows.size() == b.count, "read() size");
      for (std::size_t i = 0; i < rows.size(); ++i) check(rows[i].index == b.first + i, "row index");
      sum += b.count;
      end = std::max<std::uint64_t>(end, b.first + b.count);
    }
    check(sum == j.rows_done(), "rows_done");
    nblocks = j.blocks().size();
    if (mode & 2) {
      std::vector<RowScore> rows((mode >> 4) + 1);
      for (std::size_t i = 0; i < rows.size(); ++i) {
        rows[i].index = end + i;
        rows[i].matches = static_cast<int>(i % 33);
        rows[i].first_mismatch = static_cast<int>(i);
        rows[i].min_margin = 0.25f * static_cast<float>(i);
        rows[i].memorized = (i & 1) != 0;
        rows[i].score_known = true;
      }
      j.append(end, rows);
      next = end;
    }
  });
  if (next) {
    MemorizationJournal j(path, config);  // must reopen cleanly: any exception is a finding
    check(j.truncated_bytes() == 0, "appended journal reopened with a torn tail");
    check(j.blocks().size() == nblocks + 1, "appended block not found");
    const auto& b = j.blocks().back();
    check(b.first == *next && b.count == (mode >> 4) + 1, "appended block header");
    const auto rows = j.read(b);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      check(rows[i].matches == static_cast<int>(i % 33) && rows[i].first_mismatch == static_cast<int>(i) &&
                rows[i].min_margin == 0.25f * static_cast<float>(i) && rows[i].memorized == ((i & 1) != 0) &&
                rows[i].score_known && !rows[i].nan,
            "appended rows read back");
    }
  }
  return 0;
}

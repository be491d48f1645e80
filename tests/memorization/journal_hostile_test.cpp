// memorization/journal.h on hostile journals (found while writing fuzz/fuzz_memorization_journal):
// an open that fails must close the file and release its lock (it leaked both, so the next open
// in the same process said "another memorize process is writing"), and a block whose row range
// would wrap is refused instead of slipping past the overlap check.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/error.h"
#include "memorization/journal.h"

namespace pythia::memorization {
namespace {

namespace fs = std::filesystem;

std::vector<results::RowScore> rows(std::uint64_t first, std::size_t n) {
  std::vector<results::RowScore> r(n);
  for (std::size_t i = 0; i < n; ++i) r[i].index = first + i;
  return r;
}

struct Tmp {
  fs::path dir = fs::temp_directory_path() / ("pythia_journal_hostile_" + std::to_string(::getpid()));
  Tmp() { fs::remove_all(dir), fs::create_directories(dir); }
  ~Tmp() { fs::remove_all(dir); }
};

TEST(JournalHostile, FailedOpenReleasesTheLock) {
  Tmp t;
  const fs::path p = t.dir / kJournalFile;
  {
    MemorizationJournal j(p, "cfg");
    const auto a = rows(0, 4), b = rows(2, 4);
    j.append(0, a);
    j.append(2, b);  // overlaps rows 2-3: only a corrupt or hostile file has this
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    try {
      MemorizationJournal j(p, "cfg");
      FAIL() << "overlapping blocks accepted";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("overlap"), std::string::npos) << e.what();
    } catch (const UsageError& e) {
      FAIL() << "attempt " << attempt << ": the failed open kept the lock: " << e.what();
    }
  }
}

// Fuzz finding: a journal whose header was torn (kill during its first write) is started afresh;
// the new header was written at the old end of file after a hole of zeros, so the next open
// refused the journal as "bad magic".
TEST(JournalHostile, TornHeaderRewrittenAtTheStart) {
  Tmp t;
  const fs::path p = t.dir / kJournalFile;
  std::ofstream(p, std::ios::binary) << "PYMEMJ01\x40\x00\x00\x00{\"cf";  // claims 64 config bytes
  {
    MemorizationJournal j(p, "cfg");
    const auto r = rows(0, 3);
    j.append(0, r);
  }
  MemorizationJournal j(p, "cfg");
  EXPECT_EQ(j.rows_done(), 3u);
  EXPECT_EQ(j.truncated_bytes(), 0u);
}

TEST(JournalHostile, BlockBeyondTwoToThe63IsRefused) {
  Tmp t;
  const fs::path p = t.dir / kJournalFile;
  { MemorizationJournal j(p, "cfg"); }
  // A valid block (magic, first, count, rows, crc) starting at row 2^64 - 2.
  std::vector<unsigned char> b;
  auto put = [&](auto v) {
    unsigned char tmp[sizeof v];
    std::memcpy(tmp, &v, sizeof v);
    b.insert(b.end(), tmp, tmp + sizeof v);
  };
  put(std::uint32_t{0x314b4c42});
  put(~std::uint64_t{0} - 1);
  put(std::uint32_t{4});
  for (int i = 0; i < 4 * 8; ++i) b.push_back(0);
  put(static_cast<std::uint32_t>(::crc32(0L, b.data() + 4, static_cast<uInt>(b.size() - 4))));
  std::ofstream(p, std::ios::binary | std::ios::app).write(reinterpret_cast<const char*>(b.data()),
                                                           static_cast<std::streamsize>(b.size()));
  try {
    MemorizationJournal j(p, "cfg");
    FAIL() << "accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("beyond 2^63"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pythia::memorization

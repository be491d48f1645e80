#include "memorization/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <nlohmann/json.hpp>

#include "data/error.h"

namespace pythia::memorization {
namespace {

constexpr char kMagic[8] = {'P', 'Y', 'M', 'E', 'M', 'J', '0', '1'};
constexpr std::uint32_t kBlockMagic = 0x314b4c42;  // "BLK1"
constexpr std::size_t kRowBytes = 8;
constexpr std::size_t kBlockHeader = 4 + 8 + 4;

std::uint32_t crc(const unsigned char* p, std::size_t n) {
  return static_cast<std::uint32_t>(::crc32(0L, p, static_cast<uInt>(n)));
}

template <typename T>
void put(std::vector<unsigned char>& b, T v) {
  unsigned char tmp[sizeof(T)];
  std::memcpy(tmp, &v, sizeof(T));
  b.insert(b.end(), tmp, tmp + sizeof(T));
}
template <typename T>
T get(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

std::vector<unsigned char> read_all(int fd, const std::string& name) {
  std::vector<unsigned char> out;
  unsigned char buf[1 << 16];
  if (::lseek(fd, 0, SEEK_SET) < 0) throw DataError(name, std::string("seek: ") + std::strerror(errno));
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw DataError(name, std::string("read: ") + std::strerror(errno));
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

void write_all(int fd, const unsigned char* p, std::size_t n, const std::string& name) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw DataError(name, std::string("write: ") + std::strerror(errno));
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

std::string describe_mismatch(const std::string& stored, const std::string& wanted) {
  // Depth-bounded: dump() below recurses per level, and the stored text comes from the file.
  const auto bounded = [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > 64) throw std::length_error("nested too deep");
    return true;
  };
  nlohmann::json a;
  try {
    a = nlohmann::json::parse(stored, bounded, false);
  } catch (const std::length_error&) {
    return "";
  }
  const auto b = nlohmann::json::parse(wanted, nullptr, false);
  if (a.is_discarded() || b.is_discarded() || !a.is_object() || !b.is_object()) return "";
  std::string diff;
  std::map<std::string, int> keys;
  for (const auto& [k, v] : a.items()) keys[k] |= 1;
  for (const auto& [k, v] : b.items()) keys[k] |= 2;
  for (const auto& [k, where] : keys) {
    const std::string was = (where & 1) ? a[k].dump() : "(absent)";
    const std::string now = (where & 2) ? b[k].dump() : "(absent)";
    if (was != now) diff += "\n  " + k + ": journal " + was + ", now " + now;
  }
  return diff;
}

}  // namespace

MemorizationJournal::MemorizationJournal(std::filesystem::path path, const std::string& config)
    : path_(std::move(path)) {
  const std::string name = path_.string();
  const bool existed = std::filesystem::exists(path_);
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw DataError(name, std::string("cannot open journal: ") + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw UsageError("another memorize process is writing " + name + " (the same output folder)");
  }
  try {
    load(existed, config);
  } catch (...) {  // every error path closes the file (and so releases the lock)
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    throw;
  }
}

void MemorizationJournal::load(bool existed, const std::string& config) {
  const std::string name = path_.string();
  std::vector<unsigned char> bytes = existed ? read_all(fd_, name) : std::vector<unsigned char>{};
  // A header torn by a kill while it was first written: no block can follow it, start afresh.
  const bool magic_prefix =
      !bytes.empty() && std::memcmp(bytes.data(), kMagic, std::min<std::size_t>(bytes.size(), 8)) == 0;
  if (magic_prefix && (bytes.size() < 12 || bytes.size() < 16 + std::size_t{get<std::uint32_t>(bytes.data() + 8)})) {
    bytes.clear();
  }
  if (bytes.empty()) {
    // Fresh journal (or one killed before its header was durable).
    std::vector<unsigned char> h(kMagic, kMagic + 8);
    put<std::uint32_t>(h, static_cast<std::uint32_t>(config.size()));
    h.insert(h.end(), config.begin(), config.end());
    put<std::uint32_t>(h, crc(reinterpret_cast<const unsigned char*>(config.data()), config.size()));
    if (::ftruncate(fd_, 0) != 0) throw DataError(name, std::string("truncate: ") + std::strerror(errno));
    // read_all left the offset at the old end: without this a torn header was rewritten after a
    // hole of zeros, and the next resume refused the journal as "bad magic" (fuzz finding).
    if (::lseek(fd_, 0, SEEK_SET) < 0) throw DataError(name, std::string("seek: ") + std::strerror(errno));
    write_all(fd_, h.data(), h.size(), name);
    if (::fsync(fd_) != 0) throw DataError(name, std::string("fsync: ") + std::strerror(errno));
    const int dfd = ::open(path_.parent_path().empty() ? "." : path_.parent_path().c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    end_ = h.size();
    return;
  }
  // Existing journal: header.
  if (bytes.size() < 16 || std::memcmp(bytes.data(), kMagic, 8) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw DataError(name, "not a memorize journal (bad magic); delete it to start over");
  }
  const auto n = get<std::uint32_t>(bytes.data() + 8);
  if (bytes.size() < 12 + std::size_t{n} + 4 ||
      get<std::uint32_t>(bytes.data() + 12 + n) != crc(bytes.data() + 12, n)) {
    ::close(fd_);
    fd_ = -1;
    throw DataError(name, "journal header is corrupt; delete it to start over");
  }
  const std::string stored(reinterpret_cast<const char*>(bytes.data() + 12), n);
  if (stored != config) {
    ::close(fd_);
    fd_ = -1;
    throw UsageError("the interrupted run recorded in " + name +
                     " used a different configuration; re-run with the same arguments, or delete "
                     "the journal (or use another --output) to start over:" +
                     describe_mismatch(stored, config));
  }
  // Blocks until the end or the first torn/corrupt one.
  std::size_t pos = 12 + n + 4;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  while (pos + kBlockHeader + 4 <= bytes.size()) {
    if (get<std::uint32_t>(bytes.data() + pos) != kBlockMagic) break;
    const auto first = get<std::uint64_t>(bytes.data() + pos + 4);
    const auto count = get<std::uint32_t>(bytes.data() + pos + 12);
    const std::size_t body = std::size_t{count} * kRowBytes;
    if (pos + kBlockHeader + body + 4 > bytes.size()) break;
    if (get<std::uint32_t>(bytes.data() + pos + kBlockHeader + body) !=
        crc(bytes.data() + pos + 4, 12 + body)) {
      break;
    }
    if (first > static_cast<std::uint64_t>(INT64_MAX) - count) {  // rows are int64 elsewhere; no wrap in the overlap check
      throw DataError(name, "journal block claims rows beyond 2^63 (row " + std::to_string(first) +
                                "); delete it to start over");
    }
    blocks_.push_back({first, count, pos + kBlockHeader});
    ranges.emplace_back(first, first + count);
    rows_done_ += count;
    pos += kBlockHeader + body + 4;
  }
  truncated_ = bytes.size() - pos;
  end_ = pos;
  if (truncated_ > 0) {
    if (::ftruncate(fd_, static_cast<off_t>(pos)) != 0 || ::fsync(fd_) != 0) {
      throw DataError(name, std::string("cannot truncate the torn tail: ") + std::strerror(errno));
    }
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first < ranges[i - 1].second) {
      throw DataError(name, "journal blocks overlap at row " + std::to_string(ranges[i].first) +
                                "; delete it to start over");
    }
  }
}

MemorizationJournal::~MemorizationJournal() {
  if (fd_ >= 0) ::close(fd_);
}

void MemorizationJournal::append(std::uint64_t first, std::span<const RowScore> rows) {
  const std::string name = path_.string();
  if (fd_ < 0) throw std::logic_error("MemorizationJournal::append after remove()");
  std::vector<unsigned char> b;
  b.reserve(kBlockHeader + rows.size() * kRowBytes + 4);
  put<std::uint32_t>(b, kBlockMagic);
  put<std::uint64_t>(b, first);
  put<std::uint32_t>(b, static_cast<std::uint32_t>(rows.size()));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const RowScore& r = rows[i];
    if (r.index != first + i) throw std::logic_error("MemorizationJournal::append: rows out of order");
    const unsigned char flags = static_cast<unsigned char>((r.nan ? 1 : 0) | (r.memorized ? 2 : 0) |
                                                           (r.score_known ? 4 : 0) | (r.eod_in_target ? 8 : 0));
    b.push_back(flags);
    b.push_back(static_cast<unsigned char>(std::clamp(r.matches, 0, 255)));
    put<std::uint16_t>(b, static_cast<std::uint16_t>(r.first_mismatch));
    put<float>(b, r.min_margin);
  }
  put<std::uint32_t>(b, crc(b.data() + 4, b.size() - 4));
  if (::lseek(fd_, static_cast<off_t>(end_), SEEK_SET) < 0) {
    throw DataError(name, std::string("seek: ") + std::strerror(errno));
  }
  write_all(fd_, b.data(), b.size(), name);
  if (::fdatasync(fd_) != 0) throw DataError(name, std::string("fdatasync: ") + std::strerror(errno));
  blocks_.push_back({first, static_cast<std::uint32_t>(rows.size()), end_ + kBlockHeader});
  end_ += b.size();
  rows_done_ += rows.size();
}

std::vector<RowScore> MemorizationJournal::read(const JournalBlock& blk) const {
  std::vector<unsigned char> buf(std::size_t{blk.count} * kRowBytes);
  std::size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::pread(fd_, buf.data() + got, buf.size() - got, static_cast<off_t>(blk.offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw DataError(path_.string(), "short read of a journal block");
    got += static_cast<std::size_t>(n);
  }
  std::vector<RowScore> rows(blk.count);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const unsigned char* p = buf.data() + i * kRowBytes;
    RowScore& r = rows[i];
    r.index = blk.first + i;
    r.nan = (p[0] & 1) != 0;
    r.memorized = (p[0] & 2) != 0;
    r.score_known = (p[0] & 4) != 0;
    r.eod_in_target = (p[0] & 8) != 0;
    r.matches = p[1];
    r.first_mismatch = get<std::uint16_t>(p + 2);
    r.min_margin = get<float>(p + 4);
  }
  return rows;
}

void MemorizationJournal::remove() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace pythia::memorization

// See token_stats.h.
#include "memorization/token_stats.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <algorithm>
#include <limits>
#include <memory>

#include "data/atomic_file.h"
#include "data/error.h"
#include "data/mapped_file.h"
#include "model/kernels.h"

namespace pythia::memorization {
namespace {

constexpr char kMagic[8] = {'P', 'Y', 'T', 'O', 'K', 'S', 'T', '1'};
constexpr std::uint32_t kBlockTag = 0x314b5354;  // "TSK1"
constexpr std::size_t kStatBytes = 12;

template <typename T>
void put(std::string& s, T v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <typename T>
T get(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void put_stats(std::string& s, std::span<const TokenStat> stats) {
  for (const TokenStat& t : stats) {
    put(s, t.logprob);
    put(s, t.rank);
    put(s, t.entropy);
  }
}

TokenStat stat_at(const unsigned char* p) {
  return {get<float>(p), get<std::int32_t>(p + 4), get<float>(p + 8)};
}

std::uint32_t crc(const std::string& s, std::size_t from) {
  return static_cast<std::uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(s.data() + from), static_cast<uInt>(s.size() - from)));
}

}  // namespace

TokenStat token_stat(std::span<const float> z, int target) {
  const int n = static_cast<int>(z.size());
  bool nan = false;
  const float max = model::max_except(z.data(), n, -1, -1, &nan);
  const float zy = z[static_cast<std::size_t>(target)];
  if (nan || std::isnan(zy) || !std::isfinite(max)) {
    const float q = std::numeric_limits<float>::quiet_NaN();
    return {q, -1, q};
  }
  std::int32_t greater = 0;
  for (int j = 0; j < n; ++j) greater += z[static_cast<std::size_t>(j)] > zy ? 1 : 0;
  const double sum = model::sum_exp_shifted(z.data(), z.size(), max);  // sum exp(z - max)
  const double log_sum = std::log(sum);
  // sum_j p_j (z_j - max) with p_j = exp(z_j - max) / sum, in 8 double partial sums (fixed order).
  thread_local std::vector<float> p;
  p.assign(z.begin(), z.end());
  model::softmax_inplace(p.data(), n);
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    for (int k = 0; k < 8; ++k) {
      acc[k] += static_cast<double>(p[static_cast<std::size_t>(j + k)]) *
                (static_cast<double>(z[static_cast<std::size_t>(j + k)]) - max);
    }
  }
  for (; j < n; ++j) acc[0] += static_cast<double>(p[static_cast<std::size_t>(j)]) * (static_cast<double>(z[static_cast<std::size_t>(j)]) - max);
  const double mean_shifted = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  TokenStat s;
  s.logprob = static_cast<float>(static_cast<double>(zy) - max - log_sum);
  s.rank = greater + 1;
  s.entropy = static_cast<float>(log_sum - mean_shifted);
  return s;
}

// ---- TokenStatsJournal: blocks "TSK1" | u64 first | u32 count | count*L*12 bytes | u32 crc ----

TokenStatsJournal::TokenStatsJournal(std::filesystem::path path, int continuation_len)
    : path_(std::move(path)), L_(continuation_len) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw DataError(path_.string(), std::string("open: ") + std::strerror(errno));
  std::uint64_t good = 0;
  {
    const auto size = std::filesystem::file_size(path_);
    std::string bytes(size, '\0');
    if (size > 0 && ::pread(fd_, bytes.data(), size, 0) != static_cast<ssize_t>(size)) {
      throw DataError(path_.string(), "cannot read");
    }
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    while (good + 16 <= size) {
      if (get<std::uint32_t>(p + good) != kBlockTag) break;
      const auto first = get<std::uint64_t>(p + good + 4);
      const auto count = get<std::uint32_t>(p + good + 12);
      const std::uint64_t payload = static_cast<std::uint64_t>(count) * static_cast<std::uint64_t>(L_) * kStatBytes;
      if (good + 16 + payload + 4 > size) break;
      const std::string body = bytes.substr(good, 16 + payload);
      if (get<std::uint32_t>(p + good + 16 + payload) != crc(body, 0)) break;
      blocks_[first] = {count, good + 16};
      good += 16 + payload + 4;
    }
  }
  if (::ftruncate(fd_, static_cast<off_t>(good)) != 0 || ::lseek(fd_, static_cast<off_t>(good), SEEK_SET) < 0) {
    throw DataError(path_.string(), std::string("truncate: ") + std::strerror(errno));
  }
}

TokenStatsJournal::~TokenStatsJournal() {
  if (fd_ >= 0) ::close(fd_);
}

void TokenStatsJournal::append(std::uint64_t first, std::span<const TokenStat> stats) {
  const auto count = static_cast<std::uint32_t>(stats.size() / static_cast<std::size_t>(L_));
  std::string s;
  put(s, kBlockTag);
  put(s, first);
  put(s, count);
  put_stats(s, stats);
  put(s, crc(s, 0));
  const off_t offset = ::lseek(fd_, 0, SEEK_CUR);
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t w = ::write(fd_, s.data() + done, s.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) throw DataError(path_.string(), std::string("write: ") + std::strerror(errno));
    done += static_cast<std::size_t>(w);
  }
  if (::fdatasync(fd_) != 0) throw DataError(path_.string(), std::string("fdatasync: ") + std::strerror(errno));
  blocks_[first] = {count, static_cast<std::uint64_t>(offset) + 16};
}

std::vector<TokenStat> TokenStatsJournal::read(std::uint64_t first, std::uint32_t count) const {
  const auto it = blocks_.find(first);
  if (it == blocks_.end() || it->second.first != count) {
    throw DataError(path_.string(), "holds no token statistics for rows " + std::to_string(first) + ".." +
                                        std::to_string(first + count - 1));
  }
  const std::size_t n = static_cast<std::size_t>(count) * static_cast<std::size_t>(L_);
  std::string bytes(n * kStatBytes, '\0');
  if (::pread(fd_, bytes.data(), bytes.size(), static_cast<off_t>(it->second.second)) !=
      static_cast<ssize_t>(bytes.size())) {
    throw DataError(path_.string(), "cannot read a block");
  }
  std::vector<TokenStat> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = stat_at(reinterpret_cast<const unsigned char*>(bytes.data()) + i * kStatBytes);
  return out;
}

void TokenStatsJournal::remove() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::filesystem::remove(path_);
}

// ---- memorization_token_stats.bin ----

namespace {

nlohmann::json header_json(int P, int L, std::uint64_t begin, std::uint64_t end) {
  return {{"format", "pythia-harness token stats v1"},
          {"prefix_len", P},
          {"continuation_len", L},
          {"rows", end - begin},
          {"row_range", {begin, end}},
          {"record", "u64 index, then continuation_len x (f32 logprob, i32 rank, f32 entropy), little-endian"},
          {"logprob", "log p(x[t] | x[0..t-1]) in nats, t = prefix_len .. prefix_len+continuation_len-1"},
          {"rank", "1 + number of ids whose logit is strictly greater than the target's (ties share the best rank); -1 = NaN logits"},
          {"entropy", "entropy of softmax(logits) at position t-1, nats"}};
}

}  // namespace

TokenStatsFileWriter::TokenStatsFileWriter(std::filesystem::path path, int prefix_len, int continuation_len,
                                           std::uint64_t row_begin, std::uint64_t row_end)
    : path_(std::move(path)), L_(continuation_len) {
  const std::string h = header_json(prefix_len, continuation_len, row_begin, row_end).dump();
  bytes_.append(kMagic, sizeof kMagic);
  put(bytes_, static_cast<std::uint32_t>(h.size()));
  bytes_ += h;
  file_ = std::make_unique<data::AtomicFile>(path_);
}

void TokenStatsFileWriter::add(std::uint64_t index, std::span<const TokenStat> row) {
  put(bytes_, index);
  put_stats(bytes_, row);
  if (bytes_.size() >= (1u << 20)) {
    file_->write(bytes_);
    bytes_.clear();
  }
}

void TokenStatsFileWriter::commit() {
  file_->write(bytes_);
  bytes_.clear();
  file_->commit();
}

TokenStatsFile read_token_stats_file(const std::filesystem::path& path) {
  const data::MappedFile f(path);
  const auto* p = reinterpret_cast<const unsigned char*>(f.bytes().data());
  const std::size_t size = f.size();
  if (size < 12 || std::memcmp(p, kMagic, sizeof kMagic) != 0) {
    throw DataError(path.string(), "not a token statistics file (magic PYTOKST1 missing)");
  }
  const std::uint32_t n = get<std::uint32_t>(p + 8);
  if (12 + static_cast<std::size_t>(n) > size) throw DataError(path.string(), "truncated header");
  TokenStatsFile out;
  out.header = nlohmann::json::parse(std::string(reinterpret_cast<const char*>(p + 12), n), nullptr, false);
  if (out.header.is_discarded() || !out.header.contains("continuation_len") || !out.header.contains("rows")) {
    throw DataError(path.string(), "header is not the token statistics JSON");
  }
  out.continuation_len = out.header["continuation_len"].get<int>();
  const auto rows = out.header["rows"].get<std::uint64_t>();
  const std::size_t record = 8 + kStatBytes * static_cast<std::size_t>(out.continuation_len);
  if (size != 12 + n + rows * record) {
    throw DataError(path.string(), "size " + std::to_string(size) + " does not match " + std::to_string(rows) +
                                       " rows of " + std::to_string(record) + " bytes");
  }
  const unsigned char* r = p + 12 + n;
  for (std::uint64_t i = 0; i < rows; ++i, r += record) {
    out.indices.push_back(get<std::uint64_t>(r));
    for (int t = 0; t < out.continuation_len; ++t) out.stats.push_back(stat_at(r + 8 + kStatBytes * static_cast<std::size_t>(t)));
  }
  return out;
}

namespace {

std::string file_prefix(int P, int L, std::uint64_t begin, std::uint64_t end) {
  const std::string h = header_json(P, L, begin, end).dump();
  std::string s(kMagic, sizeof kMagic);
  put(s, static_cast<std::uint32_t>(h.size()));
  return s + h;
}

std::string range_text(std::uint64_t begin, std::uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

}  // namespace

void merge_token_stats_files(const std::vector<TokenStatsPart>& parts, int P, int L, const std::filesystem::path& out) {
  if (parts.empty()) throw std::invalid_argument("merge_token_stats_files: no parts");
  const std::size_t record = 8 + kStatBytes * static_cast<std::size_t>(L);
  std::vector<data::MappedFile> files;
  for (std::size_t k = 0; k < parts.size(); ++k) {  // check every part before writing anything
    const TokenStatsPart& part = parts[k];
    if (k > 0 && part.row_begin != parts[k - 1].row_end) {
      throw DataError(part.path.string(), "rows " + range_text(part.row_begin, part.row_end) +
                                              " do not continue the previous part's " +
                                              range_text(parts[k - 1].row_begin, parts[k - 1].row_end));
    }
    data::MappedFile f(part.path);
    const auto* p = reinterpret_cast<const unsigned char*>(f.bytes().data());
    const std::string want = file_prefix(P, L, part.row_begin, part.row_end);
    if (f.size() < want.size() || std::memcmp(p, want.data(), want.size()) != 0) {
      throw DataError(part.path.string(), "header is not the one a scan of rows " +
                                              range_text(part.row_begin, part.row_end) + " with prefix_len " +
                                              std::to_string(P) + ", continuation_len " + std::to_string(L) +
                                              " writes (another format, configuration or shard)");
    }
    const std::uint64_t rows = part.row_end - part.row_begin;
    if (f.size() != want.size() + rows * record) {
      throw DataError(part.path.string(), "size " + std::to_string(f.size()) + " does not match " +
                                              std::to_string(rows) + " rows of " + std::to_string(record) + " bytes");
    }
    for (std::uint64_t i = 0; i < rows; ++i) {
      const auto index = get<std::uint64_t>(p + want.size() + i * record);
      if (index != part.row_begin + i) {
        throw DataError(part.path.string(), "record " + std::to_string(i) + " holds row " + std::to_string(index) +
                                                ", expected " + std::to_string(part.row_begin + i));
      }
    }
    files.push_back(std::move(f));
  }
  data::AtomicFile w(out);
  w.write(file_prefix(P, L, parts.front().row_begin, parts.back().row_end));
  constexpr std::size_t kChunk = 1u << 20;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const std::size_t skip = file_prefix(P, L, parts[k].row_begin, parts[k].row_end).size();
    const auto bytes = files[k].bytes().subspan(skip);
    for (std::size_t at = 0; at < bytes.size(); at += kChunk) {
      const auto n = std::min(kChunk, bytes.size() - at);
      w.write(std::string_view(reinterpret_cast<const char*>(bytes.data()) + at, n));
    }
  }
  w.commit();
}

}  // namespace pythia::memorization

// MemorizedRows: see memorized_rows.h.
#include "memorization/memorized_rows.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "data/error.h"
#include "data/gzip_stream.h"

namespace pythia::memorization {

namespace {
constexpr std::size_t kBufferBytes = 64 * 1024;
}

MemorizedRows::MemorizedRows() = default;
MemorizedRows::MemorizedRows(MemorizedRows&&) noexcept = default;
MemorizedRows& MemorizedRows::operator=(MemorizedRows&&) noexcept = default;
MemorizedRows::~MemorizedRows() = default;

MemorizedRows MemorizedRows::from_scores_csv(const std::filesystem::path& path, double min_score) {
  MemorizedRows r;
  r.reader_ = std::make_unique<data::GzipReader>(path);
  r.path_ = path.string();
  r.buf_.resize(kBufferBytes);
  r.min_score_ = min_score;
  return r;
}

MemorizedRows MemorizedRows::from_indices(std::vector<std::int64_t> indices, const std::string& name) {
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  if (!indices.empty() && indices.front() < 0) throw DataError(name, "negative row index in memorized_indices");
  MemorizedRows r;
  std::uint64_t prev = 0;
  for (const std::int64_t v : indices) {
    std::uint64_t delta = static_cast<std::uint64_t>(v) - prev;  // first: the value itself
    prev = static_cast<std::uint64_t>(v);
    do {
      const std::uint8_t byte = delta & 0x7f;
      delta >>= 7;
      r.encoded_.push_back(delta != 0 ? byte | 0x80 : byte);
    } while (delta != 0);
  }
  r.encoded_.shrink_to_fit();
  return r;
}

std::size_t MemorizedRows::memory_bytes() const {
  return encoded_.capacity() + buf_.capacity() + (reader_ ? 64 * 1024 : 0);  // + zlib's window
}

bool MemorizedRows::read_line(std::string& line) {
  line.clear();
  for (;;) {
    if (buf_pos_ == buf_len_) {
      buf_len_ = reader_->read(buf_.data(), buf_.size());
      buf_pos_ = 0;
      if (buf_len_ == 0) return !line.empty();
    }
    const char* start = buf_.data() + buf_pos_;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', buf_len_ - buf_pos_));
    if (nl == nullptr) {
      line.append(start, buf_len_ - buf_pos_);
      buf_pos_ = buf_len_;
      continue;
    }
    line.append(start, static_cast<std::size_t>(nl - start));
    buf_pos_ += static_cast<std::size_t>(nl - start) + 1;
    return true;
  }
}

bool MemorizedRows::next_pair(std::uint64_t& out_index, double& out_value) {
  std::string& line = line_;
  while (read_line(line)) {
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line_no_ == 1 && line.rfind("index", 0) == 0) continue;  // header (extended CSV)
    const char* const b = line.data();
    const char* const e = b + line.size();
    const char* comma = static_cast<const char*>(std::memchr(b, ',', line.size()));
    std::uint64_t index = 0;
    double score = 0;
    bool ok = comma != nullptr;
    if (ok) {
      const auto r = std::from_chars(b, comma, index);
      const char* score_end = static_cast<const char*>(std::memchr(comma + 1, ',', static_cast<std::size_t>(e - comma - 1)));
      if (score_end == nullptr) score_end = e;
      const auto rs = std::from_chars(comma + 1, score_end, score);
      ok = r.ec == std::errc() && r.ptr == comma && score_end > comma + 1 && rs.ec == std::errc() &&
           rs.ptr == score_end;
    }
    if (!ok) {
      throw DataError(path_ + ":" + std::to_string(line_no_), "malformed index,score line: " + line.substr(0, 80));
    }
    if (have_last_ && index < last_index_) {
      throw DataError(path_ + ":" + std::to_string(line_no_),
                      "row index " + std::to_string(index) + " after " + std::to_string(last_index_) +
                          ": the analysis streams score files in increasing index order "
                          "(sort it with: sort -t, -k1,1n)");
    }
    have_last_ = true;
    last_index_ = index;
    out_index = index;
    out_value = score;
    return true;
  }
  return false;
}

std::uint64_t MemorizedRows::next_from_csv() {
  std::uint64_t index = 0;
  double score = 0;
  while (next_pair(index, score)) {
    if (!(score >= min_score_)) continue;  // NaN is never memorized
    if (index == last_emitted_) continue;  // a repeated index counts once
    last_emitted_ = index;
    return index;
  }
  return kEndOfRows;
}

std::uint64_t MemorizedRows::next() {
  if (have_peek_) {
    have_peek_ = false;
    return peeked_;
  }
  if (reader_) return next_from_csv();
  if (enc_pos_ >= encoded_.size()) return kEndOfRows;
  std::uint64_t delta = 0;
  int shift = 0;
  for (;;) {
    const std::uint8_t b = encoded_[enc_pos_++];
    delta |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
    shift += 7;
  }
  enc_value_ = enc_first_ ? delta : enc_value_ + delta;
  enc_first_ = false;
  return enc_value_;
}

std::uint64_t MemorizedRows::peek() {
  if (!have_peek_) {
    peeked_ = next();
    have_peek_ = true;
  }
  return peeked_;
}

std::uint64_t MemorizedRows::fill(std::uint64_t begin, std::uint64_t end, std::uint64_t* bits) {
  std::uint64_t n = 0;
  for (;;) {
    const std::uint64_t i = next();
    if (i == kEndOfRows) return n;
    if (i >= end) {
      peeked_ = i;
      have_peek_ = true;
      return n;
    }
    if (i < begin) continue;  // REQUIRES says this cannot happen; skip defensively
    const std::uint64_t off = i - begin;
    bits[off >> 6] |= std::uint64_t{1} << (off & 63);
    ++n;
  }
}

}  // namespace pythia::memorization

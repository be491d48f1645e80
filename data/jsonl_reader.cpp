#include "data/jsonl_reader.h"

#include <cstdio>
#include <fstream>

#include "data/error.h"

namespace pythia::data {

namespace {
constexpr std::size_t kChunk = 1 << 16;
}

LineReader::LineReader(const std::filesystem::path& path)
    : path_(path), in_(std::make_unique<GzipReader>(path)) {
  buf_.resize(kChunk);
}

LineReader::~LineReader() = default;

std::string LineReader::where() const {
  return path_.string() + ":" + std::to_string(line_no_);
}

bool LineReader::fill() {
  if (eof_) return false;
  // Move unread bytes to the front, grow when a line is longer than the buffer.
  if (pos_ > 0) {
    std::copy(buf_.begin() + static_cast<std::ptrdiff_t>(pos_),
              buf_.begin() + static_cast<std::ptrdiff_t>(end_), buf_.begin());
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
  const std::size_t n = in_->read(buf_.data() + end_, buf_.size() - end_);
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += n;
  return true;
}

bool LineReader::next(std::string& line) {
  std::size_t scan = pos_;
  for (;;) {
    for (std::size_t i = scan; i < end_; ++i) {
      if (buf_[i] == '\n') {
        line.assign(buf_.data() + pos_, i - pos_);
        pos_ = i + 1;
        ++line_no_;
        return true;
      }
    }
    const std::size_t scanned = end_ - pos_;
    if (!fill()) {
      if (pos_ == end_) return false;
      line.assign(buf_.data() + pos_, end_ - pos_);
      pos_ = end_;
      ++line_no_;
      return true;
    }
    scan = pos_ + scanned;
  }
}

void for_each_jsonl(const std::filesystem::path& path,
                    const std::function<void(std::int64_t, const nlohmann::json&)>& fn) {
  LineReader reader(path);
  std::string line;
  while (reader.next(line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json value;
    try {
      value = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw DataError(reader.where(), std::string("invalid JSON: ") + e.what());
    }
    fn(reader.line_number(), value);
  }
}

std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
  std::vector<nlohmann::json> out;
  for_each_jsonl(path, [&](std::int64_t, const nlohmann::json& v) { out.push_back(v); });
  return out;
}

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  LineReader reader(path);
  std::vector<std::string> out;
  std::string line;
  while (reader.next(line)) out.push_back(line);
  return out;
}

}  // namespace pythia::data

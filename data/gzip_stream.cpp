#include "data/gzip_stream.h"

#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "data/error.h"

namespace pythia::data {
namespace {
constexpr std::size_t kChunk = 64 * 1024;
}

GzipReader::GzipReader(const std::filesystem::path& path) : path_(path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw DataError(path.string(), "file not found");
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) throw DataError(path.string(), "cannot open for reading");
  gzbuffer(f, 1 << 17);
  gz_ = f;
}

GzipReader::~GzipReader() {
  if (gz_ != nullptr) gzclose(static_cast<gzFile>(gz_));
}

std::size_t GzipReader::read(char* buf, std::size_t n) {
  const unsigned want = static_cast<unsigned>(std::min<std::size_t>(n, 1u << 30));
  const int got = gzread(static_cast<gzFile>(gz_), buf, want);
  int errnum = Z_OK;
  const char* msg = gzerror(static_cast<gzFile>(gz_), &errnum);
  if (got < 0 || (errnum != Z_OK && errnum != Z_STREAM_END)) {
    // gzread returns what it could and then 0 on a truncated stream; only gzerror tells
    // (Z_BUF_ERROR): a torn file must not read as a shorter valid one.
    throw DataError(path_.string(), std::string("corrupt or truncated gzip data: ") + (msg ? msg : "unknown"));
  }
  return static_cast<std::size_t>(got);
}

std::string read_whole_file(const std::filesystem::path& path) {
  GzipReader in(path);
  std::string out;
  std::string buf(kChunk, '\0');
  while (const std::size_t n = in.read(buf.data(), buf.size())) out.append(buf.data(), n);
  return out;
}

bool is_gzip_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char magic[2] = {0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  return in.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

struct AtomicGzipWriter::Deflater {
  z_stream z{};
  ~Deflater() { deflateEnd(&z); }
};

AtomicGzipWriter::AtomicGzipWriter(std::filesystem::path path)
    : file_(std::move(path)), z_(std::make_unique<Deflater>()) {
  // windowBits 15 + 16: gzip wrapper with a default header (no name, mtime 0).
  if (deflateInit2(&z_->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("zlib deflateInit2 failed");
  }
  staging_.reserve(kChunk);
}

AtomicGzipWriter::~AtomicGzipWriter() = default;

void AtomicGzipWriter::deflate_chunk(bool finish) {
  z_stream& z = z_->z;
  z.next_in = reinterpret_cast<Bytef*>(staging_.data());
  z.avail_in = static_cast<uInt>(staging_.size());
  unsigned char out[kChunk];
  int rc;
  do {
    z.next_out = out;
    z.avail_out = sizeof out;
    rc = deflate(&z, finish ? Z_FINISH : Z_NO_FLUSH);
    if (rc == Z_STREAM_ERROR) throw std::runtime_error("zlib deflate failed");
    file_.write({reinterpret_cast<const char*>(out), sizeof out - z.avail_out});
  } while (z.avail_out == 0 || (finish && rc != Z_STREAM_END));
  staging_.clear();
}

void AtomicGzipWriter::write(std::string_view text) {
  while (!text.empty()) {
    const std::size_t take = std::min(text.size(), kChunk - staging_.size());
    staging_.append(text.substr(0, take));
    text.remove_prefix(take);
    if (staging_.size() == kChunk) deflate_chunk(false);
  }
}

void AtomicGzipWriter::commit() {
  deflate_chunk(true);
  file_.commit();
}

}  // namespace pythia::data

#include "model/zip_directory.h"

#include <cstring>

namespace pythia::model {
namespace {

class Cursor {
 public:
  explicit Cursor(std::span<const std::byte> b) : b_(b) {}
  bool has(std::uint64_t off, std::uint64_t n) const { return off <= b_.size() && n <= b_.size() - off; }
  template <typename T>
  T at(std::uint64_t off) const {  // REQUIRES has(off, sizeof(T)); little-endian host
    T v;
    std::memcpy(&v, b_.data() + off, sizeof(T));
    return v;
  }
  std::uint64_t size() const { return b_.size(); }
  std::span<const std::byte> bytes() const { return b_; }

 private:
  std::span<const std::byte> b_;
};

constexpr std::uint32_t kEocdSig = 0x06054b50, kZip64LocatorSig = 0x07064b50,
                        kZip64EocdSig = 0x06064b50, kCentralSig = 0x02014b50,
                        kLocalSig = 0x04034b50;

}  // namespace

std::optional<std::map<std::string, ZipEntryLocation>> read_zip_directory(
    std::span<const std::byte> archive) {
  const Cursor c(archive);
  if (c.size() < 22) return std::nullopt;
  // End of central directory record: the last signature within the final 22 + 65535 bytes.
  std::optional<std::uint64_t> eocd;
  const std::uint64_t lowest = c.size() > 22 + 65535 ? c.size() - 22 - 65535 : 0;
  for (std::uint64_t off = c.size() - 22 + 1; off-- > lowest;) {
    if (c.at<std::uint32_t>(off) == kEocdSig) {
      eocd = off;
      break;
    }
  }
  if (!eocd) return std::nullopt;
  std::uint64_t entries = c.at<std::uint16_t>(*eocd + 10);
  std::uint64_t cd_size = c.at<std::uint32_t>(*eocd + 12);
  std::uint64_t cd_offset = c.at<std::uint32_t>(*eocd + 16);
  if (entries == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {
    if (*eocd < 20 || c.at<std::uint32_t>(*eocd - 20) != kZip64LocatorSig) return std::nullopt;
    const auto z64 = c.at<std::uint64_t>(*eocd - 20 + 8);
    if (!c.has(z64, 56) || c.at<std::uint32_t>(z64) != kZip64EocdSig) return std::nullopt;
    entries = c.at<std::uint64_t>(z64 + 32);
    cd_size = c.at<std::uint64_t>(z64 + 40);
    cd_offset = c.at<std::uint64_t>(z64 + 48);
  }
  if (!c.has(cd_offset, cd_size)) return std::nullopt;

  std::map<std::string, ZipEntryLocation> out;
  std::uint64_t off = cd_offset;
  for (std::uint64_t i = 0; i < entries; ++i) {
    if (!c.has(off, 46) || c.at<std::uint32_t>(off) != kCentralSig) return std::nullopt;
    ZipEntryLocation e;
    e.method = c.at<std::uint16_t>(off + 10);
    e.crc32 = c.at<std::uint32_t>(off + 16);
    e.compressed_size = c.at<std::uint32_t>(off + 20);
    e.size = c.at<std::uint32_t>(off + 24);
    const std::uint16_t name_len = c.at<std::uint16_t>(off + 28);
    const std::uint16_t extra_len = c.at<std::uint16_t>(off + 30);
    const std::uint16_t comment_len = c.at<std::uint16_t>(off + 32);
    std::uint64_t local = c.at<std::uint32_t>(off + 42);
    if (!c.has(off + 46, std::uint64_t{name_len} + extra_len + comment_len)) return std::nullopt;
    std::string name(reinterpret_cast<const char*>(archive.data() + off + 46), name_len);
    // zip64 extended information: the 8-byte values present are those whose 32-bit field is
    // saturated, in the order size, compressed size, local header offset.
    std::uint64_t x = off + 46 + name_len;
    const std::uint64_t x_end = x + extra_len;
    while (x + 4 <= x_end) {
      const auto id = c.at<std::uint16_t>(x);
      const auto len = c.at<std::uint16_t>(x + 2);
      if (x + 4 + len > x_end) return std::nullopt;
      if (id == 0x0001) {
        std::uint64_t p = x + 4;
        const auto take = [&](std::uint64_t& field) {
          if (p + 8 > x + 4 + len) return false;
          field = c.at<std::uint64_t>(p);
          p += 8;
          return true;
        };
        if (e.size == 0xffffffff && !take(e.size)) return std::nullopt;
        if (e.compressed_size == 0xffffffff && !take(e.compressed_size)) return std::nullopt;
        if (local == 0xffffffff && !take(local)) return std::nullopt;
      }
      x += 4 + std::uint64_t{len};
    }
    // Local header: its own name/extra lengths decide where the data begins.
    if (!c.has(local, 30) || c.at<std::uint32_t>(local) != kLocalSig) return std::nullopt;
    const std::uint64_t data = local + 30 + c.at<std::uint16_t>(local + 26) +
                               c.at<std::uint16_t>(local + 28);
    if (!c.has(data, e.compressed_size)) return std::nullopt;
    e.data_offset = data;
    if (!out.emplace(std::move(name), e).second) return std::nullopt;  // duplicate names
    off += 46 + std::uint64_t{name_len} + extra_len + comment_len;
  }
  return out;
}

}  // namespace pythia::model

// read_zip_directory: plain and zip64 archives (built byte by byte per APPNOTE 6.3.9, with every
// 32-bit field saturated so the zip64 records must be used, as in multi-GB checkpoint shards),
// and inconsistent input returning nullopt. The zip64 archive is also read end to end by
// read_torch_checkpoint (libzip + mapped storages).
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "model/torch_checkpoint.h"
#include "model/zip_directory.h"

namespace fs = std::filesystem;
using pythia::model::read_zip_directory;

namespace {

template <typename T>
void put(std::string& s, T v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

// A stored-only zip archive; zip64 = every size/offset field saturated + zip64 records.
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& entries, bool zip64) {
  std::string out, central;
  for (const auto& [name, data] : entries) {
    const auto crc = static_cast<std::uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    const std::uint64_t local = out.size();
    const auto n32 = [&](std::uint64_t v) {
      return zip64 ? 0xffffffffu : static_cast<std::uint32_t>(v);
    };
    put<std::uint32_t>(out, 0x04034b50);
    put<std::uint16_t>(out, 45);
    put<std::uint16_t>(out, 0);
    put<std::uint16_t>(out, 0);  // stored
    put<std::uint16_t>(out, 0);
    put<std::uint16_t>(out, 0x21);
    put<std::uint32_t>(out, crc);
    put<std::uint32_t>(out, n32(data.size()));
    put<std::uint32_t>(out, n32(data.size()));
    put<std::uint16_t>(out, static_cast<std::uint16_t>(name.size()));
    put<std::uint16_t>(out, zip64 ? 20 : 0);
    out += name;
    if (zip64) {
      put<std::uint16_t>(out, 0x0001);
      put<std::uint16_t>(out, 16);
      put<std::uint64_t>(out, data.size());
      put<std::uint64_t>(out, data.size());
    }
    out += data;
    put<std::uint32_t>(central, 0x02014b50);
    put<std::uint16_t>(central, 45);
    put<std::uint16_t>(central, 45);
    put<std::uint16_t>(central, 0);
    put<std::uint16_t>(central, 0);
    put<std::uint16_t>(central, 0);
    put<std::uint16_t>(central, 0x21);
    put<std::uint32_t>(central, crc);
    put<std::uint32_t>(central, n32(data.size()));
    put<std::uint32_t>(central, n32(data.size()));
    put<std::uint16_t>(central, static_cast<std::uint16_t>(name.size()));
    put<std::uint16_t>(central, zip64 ? 28 : 0);
    put<std::uint16_t>(central, 0);
    put<std::uint16_t>(central, 0);
    put<std::uint16_t>(central, 0);
    put<std::uint32_t>(central, 0);
    put<std::uint32_t>(central, n32(local));
    central += name;
    if (zip64) {
      put<std::uint16_t>(central, 0x0001);
      put<std::uint16_t>(central, 24);
      put<std::uint64_t>(central, data.size());
      put<std::uint64_t>(central, data.size());
      put<std::uint64_t>(central, local);
    }
  }
  const std::uint64_t cd_offset = out.size();
  out += central;
  if (zip64) {
    const std::uint64_t z64 = out.size();
    put<std::uint32_t>(out, 0x06064b50);
    put<std::uint64_t>(out, 44);
    put<std::uint16_t>(out, 45);
    put<std::uint16_t>(out, 45);
    put<std::uint32_t>(out, 0);
    put<std::uint32_t>(out, 0);
    put<std::uint64_t>(out, entries.size());
    put<std::uint64_t>(out, entries.size());
    put<std::uint64_t>(out, central.size());
    put<std::uint64_t>(out, cd_offset);
    put<std::uint32_t>(out, 0x07064b50);
    put<std::uint32_t>(out, 0);
    put<std::uint64_t>(out, z64);
    put<std::uint32_t>(out, 1);
  }
  put<std::uint32_t>(out, 0x06054b50);
  put<std::uint16_t>(out, 0);
  put<std::uint16_t>(out, 0);
  put<std::uint16_t>(out, zip64 ? 0xffff : static_cast<std::uint16_t>(entries.size()));
  put<std::uint16_t>(out, zip64 ? 0xffff : static_cast<std::uint16_t>(entries.size()));
  put<std::uint32_t>(out, zip64 ? 0xffffffffu : static_cast<std::uint32_t>(central.size()));
  put<std::uint32_t>(out, zip64 ? 0xffffffffu : static_cast<std::uint32_t>(cd_offset));
  put<std::uint16_t>(out, 0);
  return out;
}

std::span<const std::byte> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

TEST(ZipDirectory, PlainAndZip64) {
  for (const bool zip64 : {false, true}) {
    const std::string zip = make_zip({{"a/data.pkl", "pkl"}, {"a/data/0", "hello world!"}}, zip64);
    const auto dir = read_zip_directory(as_bytes(zip));
    ASSERT_TRUE(dir.has_value()) << "zip64=" << zip64;
    ASSERT_EQ(dir->size(), 2u);
    const auto& e = dir->at("a/data/0");
    EXPECT_EQ(e.method, 0);
    EXPECT_EQ(e.size, 12u);
    EXPECT_EQ(e.compressed_size, 12u);
    EXPECT_EQ(zip.substr(e.data_offset, e.size), "hello world!");
    EXPECT_EQ(e.crc32, crc32(0L, reinterpret_cast<const Bytef*>("hello world!"), 12));
  }
}

TEST(ZipDirectory, InconsistentInputGivesNullopt) {
  const std::string zip = make_zip({{"a/data/0", "hello world!"}}, true);
  EXPECT_FALSE(read_zip_directory(as_bytes(zip.substr(0, zip.size() / 2))).has_value());
  EXPECT_FALSE(read_zip_directory(as_bytes("")).has_value());
  EXPECT_FALSE(read_zip_directory(as_bytes(std::string(100, 'x'))).has_value());
  std::string bad_local = zip;
  bad_local[0] = 'X';  // local header signature broken
  EXPECT_FALSE(read_zip_directory(as_bytes(bad_local)).has_value());
  // A prefixed (self-extracting style) archive: offsets no longer point at local headers.
  EXPECT_FALSE(read_zip_directory(as_bytes("junk" + zip)).has_value());
}

TEST(ZipDirectory, Zip64CheckpointEndToEnd) {
  // data.pkl of {'w': FloatStorage '0' of 2 elements, shape [2]} (protocol 2, as torch writes).
  const auto u = [](const std::string& v) {  // BINUNICODE
    std::string o = "X";
    put<std::uint32_t>(o, static_cast<std::uint32_t>(v.size()));
    return o + v;
  };
  const std::string pkl = std::string("\x80\x02}", 3) + u("w") +
                          "ctorch._utils\n_rebuild_tensor_v2\n((" + u("storage") +
                          "ctorch\nFloatStorage\n" + u("0") + u("cpu") +
                          std::string("K\x02tQK\x00K\x02\x85K\x01\x85\x89", 13) +
                          "ccollections\nOrderedDict\n)RtRs.";
  const float w[] = {1.5f, -2.25f};
  const std::string data(reinterpret_cast<const char*>(w), 8);
  const fs::path dir = fs::temp_directory_path() / ("zip_directory_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path bin = dir / "pytorch_model.bin";
  std::ofstream(bin, std::ios::binary) << make_zip({{"archive/data.pkl", pkl}, {"archive/data/0", data}}, true);
  const auto c = pythia::model::read_torch_checkpoint(bin);
  EXPECT_EQ(c.mapped_storages, 1);
  ASSERT_EQ(c.tensors.size(), 1u);
  EXPECT_EQ(c.tensors[0].name, "w");
  ASSERT_EQ(c.tensors[0].bytes.size(), 8u);
  EXPECT_EQ(std::memcmp(c.tensors[0].bytes.data(), w, 8), 0);
  fs::remove_all(dir);
}

}  // namespace

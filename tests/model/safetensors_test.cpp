// Safetensors reader and TensorStore on small files written by the test: F16/BF16/F32 round
// trips, sharded folders, layout preference, and every corruption refused with the file (and
// tensor) named.
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <random>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/error.h"
#include "model/safetensors.h"
#include "model/tensor_store.h"

namespace fs = std::filesystem;
using nlohmann::json;
using pythia::DataError;
using pythia::model::DType;
using pythia::model::TensorStore;

namespace {

struct Tensor {
  std::string name, dtype;
  std::vector<std::int64_t> shape;
  std::string bytes;
};

template <typename T>
std::string raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// Serialises tensors the way huggingface/safetensors does: u64 header length, JSON header padded
// with spaces to a multiple of 8, then the data in order. `edit` may change the header JSON.
std::string build(const std::vector<Tensor>& ts, const std::function<void(json&)>& edit = {}) {
  json h = json::object();
  h["__metadata__"] = {{"format", "pt"}};
  std::string data;
  for (const auto& t : ts) {
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape},
                 {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data += t.bytes;
  }
  if (edit) edit(h);
  std::string header = h.dump();
  while (header.size() % 8 != 0) header += ' ';
  const std::uint64_t n = header.size();
  return std::string(reinterpret_cast<const char*>(&n), 8) + header + data;
}

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("safetensors_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& bytes) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

  // Expects reading `bytes` as model.safetensors to fail with a message naming the file and
  // containing `what`.
  void expect_refused(const std::string& bytes, const std::string& what) {
    const fs::path p = write("model.safetensors", bytes);
    try {
      TensorStore::open(dir_);
      ADD_FAILURE() << "accepted a corrupt file; wanted: " << what;
    } catch (const DataError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << "message: " << msg << "\nwanted: " << what;
    }
  }

  fs::path dir_;
};

// Three F32 values [2] + a small F16 and BF16 tensor, used by several tests.
std::vector<Tensor> sample() {
  return {{"a", "F32", {2, 3}, raw(std::vector<float>{1, 2, 3, 4, 5, 6})},
          {"b", "F16", {2}, raw(std::vector<std::uint16_t>{0x3c00, 0xc000})},
          {"c", "BF16", {1, 2}, raw(std::vector<std::uint16_t>{0x3f80, 0x4049})}};
}

TEST_F(SafetensorsTest, RoundTripF32F16BF16) {
  // F32: ordinary, negative zero, subnormal, extremes, infinities.
  const std::vector<float> f32 = {0.1f, -0.0f, std::numeric_limits<float>::denorm_min(),
                                  std::numeric_limits<float>::max(),
                                  -std::numeric_limits<float>::infinity(), 3.5e-20f};
  // F16 patterns with their exact values (IEEE 754 binary16).
  const std::vector<std::uint16_t> f16 = {0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00,
                                          0xc000, 0x7bff, 0x3555, 0x7c00, 0xfc00};
  const std::vector<float> f16_want = {0.0f, -0.0f, std::ldexp(1.0f, -24),
                                       std::ldexp(1023.0f, -24), std::ldexp(1.0f, -14), 1.0f,
                                       -2.0f, 65504.0f, 0.333251953125f,
                                       std::numeric_limits<float>::infinity(),
                                       -std::numeric_limits<float>::infinity()};
  // BF16 = the top 16 bits of a float32.
  const std::vector<float> bf_src = {1.0f, -3.140625f, std::ldexp(1.0f, -133), 1e38f};
  std::vector<std::uint16_t> bf16;
  for (const float x : bf_src) bf16.push_back(static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(x) >> 16));
  write("model.safetensors", build({{"w32", "F32", {2, 3}, raw(f32)},
                                    {"w16", "F16", {11}, raw(f16)},
                                    {"wbf", "BF16", {4}, raw(bf16)}}));
  const auto store = TensorStore::open(dir_);
  EXPECT_EQ(store.description(), "model.safetensors (BF16, F16, F32)");
  EXPECT_EQ(store.names(), (std::vector<std::string>{"w16", "w32", "wbf"}));
  const std::int64_t s23[] = {2, 3}, s11[] = {11}, s4[] = {4};
  const auto a = store.read_f32("w32", s23);
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(std::memcmp(a.data(), f32.data(), 24), 0);
  const auto b = store.read_f32("w16", s11);
  ASSERT_EQ(b.size(), 11u);
  for (std::size_t i = 0; i < b.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint32_t>(b[i]), std::bit_cast<std::uint32_t>(f16_want[i]))
        << "f16 0x" << std::hex << f16[i] << " -> " << b[i];
  }
  const auto c = store.read_f32("wbf", s4);
  for (std::size_t i = 0; i < c.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint32_t>(c[i]), std::bit_cast<std::uint32_t>(bf_src[i]) & 0xffff0000u);
  }
  const auto* info = store.find("w16");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->dtype, DType::kF16);
  EXPECT_EQ(info->shape, (std::vector<std::int64_t>{11}));
  EXPECT_EQ(info->bytes.size(), 22u);
  EXPECT_EQ(store.find("nope"), nullptr);
}

TEST_F(SafetensorsTest, HalfConversionExhaustive) {
  // Every binary16 pattern against an independent formula: (-1)^s * 2^(e-15) * (1 + m/1024),
  // subnormals 2^-14 * m/1024.
  std::vector<std::uint16_t> all(65536);
  for (std::uint32_t i = 0; i < 65536; ++i) all[i] = static_cast<std::uint16_t>(i);
  // Both paths: the dispatching one (F16C where the CPU has it) and the portable table.
  std::vector<float> fast(65536), out(65536);
  ASSERT_TRUE(pythia::model::convert_to_f32(DType::kF16,
                                            reinterpret_cast<const std::byte*>(all.data()),
                                            all.size(), fast.data()));
  pythia::model::convert_f16_to_f32_portable(reinterpret_cast<const std::byte*>(all.data()),
                                             all.size(), out.data());
  int differ = 0;
  for (std::uint32_t i = 0; i < 65536; ++i) {
    if (std::isnan(out[i]) ? !std::isnan(fast[i])
                           : std::bit_cast<std::uint32_t>(out[i]) != std::bit_cast<std::uint32_t>(fast[i])) {
      ++differ;
    }
  }
  EXPECT_EQ(differ, 0) << "the F16C and table paths disagree";
  int bad = 0;
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const int s = i >> 15, e = (i >> 10) & 31, m = i & 1023;
    double want;
    if (e == 31) {
      want = m ? std::nan("") : std::numeric_limits<double>::infinity();
    } else if (e == 0) {
      want = std::ldexp(m / 1024.0, -14);
    } else {
      want = std::ldexp(1.0 + m / 1024.0, e - 15);
    }
    if (s) want = -want;
    const bool ok = std::isnan(want) ? std::isnan(out[i])
                                     : std::bit_cast<std::uint32_t>(out[i]) ==
                                           std::bit_cast<std::uint32_t>(static_cast<float>(want));
    if (!ok && bad++ < 5) ADD_FAILURE() << "half 0x" << std::hex << i << " -> " << out[i];
  }
  EXPECT_EQ(bad, 0);
}

TEST_F(SafetensorsTest, ScalarsEmptyTensorsAndOtherDtypes) {
  write("model.safetensors", build({{"s", "F32", {}, raw(std::vector<float>{7.5f})},
                                    {"e", "F16", {0, 4}, ""},
                                    {"i", "I64", {2}, raw(std::vector<std::int64_t>{1, 2})},
                                    {"m", "U8", {3}, std::string("\x01\x00\x01", 3)}}));
  const auto store = TensorStore::open(dir_);
  EXPECT_EQ(store.read_f32("s", {}), std::vector<float>{7.5f});
  const std::int64_t e_shape[] = {0, 4};
  EXPECT_TRUE(store.read_f32("e", e_shape).empty());
  EXPECT_EQ(store.find("i")->dtype, DType::kI64);
  EXPECT_EQ(store.find("m")->dtype, DType::kU8);
  EXPECT_EQ(store.find("m")->bytes.size(), 3u);
  // Not convertible to fp32 weights: refused, naming file and tensor.
  const std::int64_t s2[] = {2};
  try {
    store.read_f32("i", s2);
    ADD_FAILURE();
  } catch (const DataError& err) {
    const std::string msg = err.what();
    EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("tensor 'i' has dtype I64"), std::string::npos) << msg;
  }
}

TEST_F(SafetensorsTest, ReadF32ChecksShapeAndPresence) {
  write("model.safetensors", build(sample()));
  const auto store = TensorStore::open(dir_);
  const std::int64_t wrong[] = {3, 2};
  try {
    store.read_f32("a", wrong);
    ADD_FAILURE();
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find((dir_ / "model.safetensors").string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("tensor 'a': expected shape [3, 2], found [2, 3]"), std::string::npos)
        << msg;
  }
  try {
    store.read_f32("gpt_neox.embed_in.weight", wrong);
    ADD_FAILURE();
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("tensor 'gpt_neox.embed_in.weight' is missing"), std::string::npos) << msg;
  }
  const std::int64_t ok[] = {1, 2};
  const auto c = store.read_f32("c", ok);
  EXPECT_EQ(c, (std::vector<float>{1.0f, 3.140625f}));
}

TEST_F(SafetensorsTest, RefusesTruncatedAndLyingHeaders) {
  expect_refused("", "truncated safetensors file: 0 bytes");
  expect_refused(std::string("\x10\x00\x00", 3), "truncated safetensors file: 3 bytes");
  const std::string good = build(sample());
  // Header length larger than the file.
  std::string lying = good;
  const std::uint64_t big = good.size();
  std::memcpy(lying.data(), &big, 8);
  expect_refused(lying, "runs past the end of the file");
  // Absurd header length.
  const std::uint64_t huge = 1ULL << 40;
  std::memcpy(lying.data(), &huge, 8);
  expect_refused(lying, "exceeds the format's limit");
  // Data cut short: the last tensor's offsets now run past EOF.
  expect_refused(good.substr(0, good.size() - 2), "tensor 'c': data_offsets [28,32] run past");
  // Header is not JSON / not an object.
  std::string garbage = good;
  garbage[9] = '#';
  expect_refused(garbage, "safetensors header is not valid JSON");
  std::string arr = "[1, 2, 3]     ";  // padded to a multiple of 8... header_len 16
  while (arr.size() % 8) arr += ' ';
  const std::uint64_t n = arr.size();
  expect_refused(std::string(reinterpret_cast<const char*>(&n), 8) + arr,
                 "safetensors header is not a JSON object");
}

TEST_F(SafetensorsTest, RefusesBadEntries) {
  const auto ts = sample();
  expect_refused(build(ts, [](json& h) { h["a"]["dtype"] = "F8_E9M9"; }),
                 "tensor 'a': unknown dtype \"F8_E9M9\"");
  expect_refused(build(ts, [](json& h) { h["a"]["shape"] = {2, -3}; }),
                 "tensor 'a': shape [2,-3] has a dimension that is not a non-negative integer");
  expect_refused(build(ts, [](json& h) { h["a"]["shape"] = {3, 3}; }),
                 "tensor 'a': data_offsets [0,24] span 24 bytes but F32 [3, 3] needs 36");
  expect_refused(build(ts, [](json& h) { h["b"]["dtype"] = "F32"; }),
                 "tensor 'b': data_offsets [24,28] span 4 bytes but F32 [2] needs 8");
  expect_refused(build(ts, [](json& h) { h["b"]["data_offsets"] = {28, 24}; }),
                 "tensor 'b': \"data_offsets\" [28,24] is not a pair");
  expect_refused(build(ts, [](json& h) { h["b"]["data_offsets"] = {24}; }),
                 "tensor 'b': \"data_offsets\" is not a [begin, end] pair");
  expect_refused(build(ts, [](json& h) { h["b"].erase("dtype"); }),
                 "tensor 'b': header entry needs \"dtype\"");
  expect_refused(build(ts, [](json& h) { h["b"] = 5; }),
                 "tensor 'b': header entry is not a JSON object");
  expect_refused(build(ts, [](json& h) { h["a"]["shape"] = {1ULL << 62, 1ULL << 62}; }),
                 "overflows 64 bits");
  // b moved onto the bytes of a.
  expect_refused(build(ts, [](json& h) { h["b"]["data_offsets"] = {20, 24}; }),
                 "overlaps tensor");
}

TEST_F(SafetensorsTest, ShardedIndex) {
  write("model-00001-of-00002.safetensors", build({sample()[0], sample()[1]}));
  write("model-00002-of-00002.safetensors", build({sample()[2]}));
  const json index = {{"metadata", {{"total_size", 32}}},
                      {"weight_map", {{"a", "model-00001-of-00002.safetensors"},
                                      {"b", "model-00001-of-00002.safetensors"},
                                      {"c", "model-00002-of-00002.safetensors"}}}};
  write("model.safetensors.index.json", index.dump());
  const auto store = TensorStore::open(dir_);
  EXPECT_EQ(store.description(), "model.safetensors.index.json (2 shards) (BF16, F16, F32)");
  EXPECT_EQ(store.names(), (std::vector<std::string>{"a", "b", "c"}));
  const std::int64_t s12[] = {1, 2};
  EXPECT_EQ(store.read_f32("c", s12), (std::vector<float>{1.0f, 3.140625f}));
  EXPECT_NE(store.find("c")->file.find("model-00002-of-00002.safetensors"), std::string::npos);
}

TEST_F(SafetensorsTest, ShardedIndexRefusals) {
  const auto expect_msg = [&](const std::string& what) {
    try {
      TensorStore::open(dir_);
      ADD_FAILURE() << "accepted; wanted " << what;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  write("s1.safetensors", build({sample()[0], sample()[1]}));
  write("s2.safetensors", build({sample()[1], sample()[2]}));  // "b" in both shards
  json index = {{"weight_map", {{"a", "s1.safetensors"}, {"b", "s1.safetensors"},
                                {"c", "s2.safetensors"}}}};
  write("model.safetensors.index.json", index.dump());
  expect_msg("tensor 'b' appears twice");
  index["weight_map"]["c"] = "s3.safetensors";  // missing shard file
  write("model.safetensors.index.json", index.dump());
  expect_msg("shard \"s3.safetensors\" (holding 'c') is missing");
  index["weight_map"] = {{"a", "s1.safetensors"}, {"zz", "s1.safetensors"}};
  write("model.safetensors.index.json", index.dump());
  expect_msg("tensor 'zz' is listed for this shard");
  index["weight_map"] = {{"a", "../s1.safetensors"}};
  write("model.safetensors.index.json", index.dump());
  expect_msg("is not a plain file name");
  write("model.safetensors.index.json", "{\"metadata\": {}}");
  expect_msg("shard index has no \"weight_map\" object");
}

TEST_F(SafetensorsTest, PrefersSafetensorsAndNamesMissingWeights) {
  try {
    TensorStore::open(dir_);
    ADD_FAILURE();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no model weights"), std::string::npos) << e.what();
  }
  write("pytorch_model.bin", "not a zip at all");
  EXPECT_THROW(TensorStore::open(dir_), DataError);
  write("model.safetensors", build(sample()));  // now preferred: the .bin is never read
  EXPECT_EQ(TensorStore::open(dir_).description(), "model.safetensors (BF16, F16, F32)");
}

TEST_F(SafetensorsTest, MutatedFilesOnlyEverThrowDataError) {
  // Deterministic mutation fuzzing of a valid image (header and data): every outcome is a parsed
  // tensor list whose spans lie inside the image, or a DataError.
  const std::string good = build(sample());
  std::mt19937 rng(7);
  int parsed = 0, refused = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s = good;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits; ++k) {
      const std::size_t at = rng() % s.size();
      if (rng() % 2) {
        s[at] = static_cast<char>(rng());
      } else {
        s.erase(at, 1 + rng() % 4);
      }
      if (s.empty()) s = "x";
    }
    const auto* begin = reinterpret_cast<const std::byte*>(s.data());
    try {
      for (const auto& t : pythia::model::parse_safetensors(std::span(begin, s.size()), "fuzz")) {
        ASSERT_GE(t.bytes.data(), begin);
        ASSERT_LE(t.bytes.data() + t.bytes.size(), begin + s.size());
      }
      ++parsed;
    } catch (const DataError&) {
      ++refused;
    }
  }
  EXPECT_EQ(parsed + refused, 20000);
  EXPECT_GT(refused, 10000);
  std::cout << "fuzz: " << parsed << " parsed, " << refused << " refused\n";
}

TEST_F(SafetensorsTest, ParseInMemory) {
  const std::string img = build(sample());
  const auto ts = pythia::model::parse_safetensors(
      std::span(reinterpret_cast<const std::byte*>(img.data()), img.size()), "mem");
  ASSERT_EQ(ts.size(), 3u);
  EXPECT_EQ(ts[0].file, "mem");
}

}  // namespace

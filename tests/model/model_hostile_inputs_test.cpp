// Hostile model files (issue #13): a 10 GB-claiming safetensors header, deeply nested JSON, a
// tokenizer.json with a huge merges list, a pickle with every opcode the restricted unpickler
// does not allow, a pickle of millions of opcodes. Each must end in a DataError that says what is
// wrong, within a time bound and without a large allocation (peak RSS of the test process).
// The fuzz targets in fuzz/, run on hand-made hostile inputs, showed the stack overflows (nested
// JSON); sizing their memory limits showed the pickle's unbounded memory (fuzz/README.md).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "data/error.h"
#include "data/jsonl_reader.h"
#include "model/neox_config.h"
#include "model/restricted_unpickler.h"
#include "model/safetensors.h"
#include "model/tensor_store.h"
#include "model/tokenizer.h"

#include "tests/hostile_input_check.h"

namespace fs = std::filesystem;
using nlohmann::json;
using pythia::DataError;

namespace {

// This file's bounds: 20 s, 512 MB unless a case says otherwise.
void expect_bounded_error(const std::function<void()>& fn, const std::string& what, double seconds = 20,
                          long mb = 512) {
  pythia::testing::check_bounded_error(fn, what, seconds, mb);
}

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

class HostileModelFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hostile_model_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& bytes) const {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  static std::string safetensors(const std::string& header, const std::string& buffer = "") {
    const std::uint64_t n = header.size();
    return std::string(reinterpret_cast<const char*>(&n), 8) + header + buffer;
  }
  fs::path dir_;
};

// --- safetensors ---------------------------------------------------------------------------

TEST_F(HostileModelFiles, SafetensorsHeaderLengthOf10GB) {
  std::string bytes(8, '\0');
  const std::uint64_t n = 10'000'000'000ULL;
  std::memcpy(bytes.data(), &n, 8);
  const auto p = write("model.safetensors", bytes + "{}");
  expect_bounded_error([&] { pythia::model::read_safetensors(p); },
                       "exceeds the format's limit of 100000000 bytes", 5, 64);
}

TEST_F(HostileModelFiles, SafetensorsHeaderLengthPastTheEnd) {
  std::string bytes(8, '\0');
  const std::uint64_t n = 90'000'000;  // under the limit, but the file is 1 KB
  std::memcpy(bytes.data(), &n, 8);
  const auto p = write("model.safetensors", bytes + std::string(1024, ' '));
  expect_bounded_error([&] { pythia::model::read_safetensors(p); }, "runs past the end of the file",
                       5, 64);
}

TEST_F(HostileModelFiles, SafetensorsTensorOf10GBInASmallFile) {
  const auto p = write("model.safetensors",
                       safetensors(R"({"w":{"dtype":"F16","shape":[5368709120],)"
                                   R"("data_offsets":[0,10737418240]}})",
                                   std::string(16, '\0')));
  expect_bounded_error([&] { pythia::model::read_safetensors(p); }, "run past the end of the file",
                       5, 64);
}

TEST_F(HostileModelFiles, SafetensorsShapeOverflowingSixtyFourBits) {
  const auto p = write("model.safetensors",
                       safetensors(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],)"
                                   R"("data_offsets":[0,0]}})"));
  expect_bounded_error([&] { pythia::model::read_safetensors(p); }, "overflows 64 bits", 5, 64);
}

// Found by running fuzz_safetensors on this hand-made input (ASan stack-overflow): dump() of the
// bad shape in the message recursed once per level.
TEST_F(HostileModelFiles, SafetensorsHeaderNestedAMillionLevels) {
  const auto p = write("model.safetensors",
                       safetensors(R"({"a":{"dtype":"U8","shape":)" + nested(1'000'000) +
                                   R"(,"data_offsets":[0,0]}})"));
  expect_bounded_error([&] { pythia::model::read_safetensors(p); }, "nested deeper than 64 levels");
}

// Regression (fuzz_safetensors, UBSan "null pointer passed as argument 1, which is declared to
// never be null" in convert_to_f32): the fuzzer's input holds an empty F32 tensor "s" (shape
// [0, 0]); converting it into an empty vector called memcpy(nullptr, ..., 0).
TEST_F(HostileModelFiles, FuzzCrashEmptyF32TensorConverts) {
  std::ifstream in(PYTHIA_SOURCE_DIR "/fuzz/regressions/safetensors/ub-memcpy-null-empty-f32",
                   std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(bytes.size(), 353u);
  auto f = pythia::model::read_safetensors(write("model.safetensors", bytes));
  std::vector<float> none;
  EXPECT_TRUE(pythia::model::convert_to_f32(pythia::model::DType::kF32, nullptr, 0, none.data()));
  const auto store = pythia::model::TensorStore::from_tensors(dir_, "model.safetensors",
                                                               f.tensors, {f.mapping});
  const std::vector<std::int64_t> shape = {0, 0};
  EXPECT_TRUE(store.read_f32("s", shape).empty());
}

// --- config.json ---------------------------------------------------------------------------

// Found by running fuzz_neox_config on this hand-made input (ASan stack-overflow): dump() of
// 'architectures' in the message recursed once per level.
TEST_F(HostileModelFiles, ConfigNestedAMillionLevels) {
  json cfg = json::parse(std::ifstream(PYTHIA_FIXTURES_DIR "/pythia-tiny/config.json"));
  cfg["architectures"] = nullptr;
  std::string text = cfg.dump();
  text.replace(text.find("\"architectures\":null") + 16, 4, nested(1'000'000));
  const auto p = write("config.json", text);
  expect_bounded_error([&] { pythia::model::read_neox_config(p); }, "nested deeper than 64 levels");
}

TEST_F(HostileModelFiles, ConfigNestedJustUnderTheLimitIsAnOrdinaryError) {
  json cfg = json::parse(std::ifstream(PYTHIA_FIXTURES_DIR "/pythia-tiny/config.json"));
  cfg["architectures"] = nullptr;
  std::string text = cfg.dump();
  text.replace(text.find("\"architectures\":null") + 16, 4, nested(60));
  const auto p = write("config.json", text);
  expect_bounded_error([&] { pythia::model::read_neox_config(p); }, "is not supported", 5, 64);
}

// --- tokenizer.json ------------------------------------------------------------------------

json tokenizer_20b() {
  return json::parse(pythia::data::read_whole_file(PYTHIA_FIXTURES_DIR "/tokenizer/20B_tokenizer.json.gz"));
}

TEST_F(HostileModelFiles, TokenizerWithAMillionBadMerges) {
  json tok = tokenizer_20b();
  tok["model"]["merges"] = json::array();
  for (int i = 0; i < 1'000'000; ++i) tok["model"]["merges"].push_back("zq xj");
  const std::string text = tok.dump();
  tok = nullptr;
  expect_bounded_error([&] { pythia::model::Tokenizer::from_json_text(text, "tokenizer.json"); },
                       "merge 0 'zq xj' uses a token that is not in the vocab", 30, 1024);
}

TEST_F(HostileModelFiles, TokenizerWithAMillionMergesAndABadLastOne) {
  json tok = tokenizer_20b();
  json merges = json::array();
  for (int i = 0; i < 1'000'000; ++i) merges.push_back("\xC4\xA0 t");  // "Ġ t", repeated
  merges.push_back("zq xj");
  tok["model"]["merges"] = std::move(merges);
  const auto p = write("tokenizer.json", tok.dump());
  tok = nullptr;
  expect_bounded_error([&] { pythia::model::Tokenizer::from_file(p); },
                       "merge 1000000 'zq xj' uses a token that is not in the vocab", 30, 1024);
}

TEST_F(HostileModelFiles, TokenizerMergesNestedAMillionLevels) {
  json tok = tokenizer_20b();
  tok["model"]["merges"] = nullptr;
  std::string text = tok.dump();
  text.replace(text.find("\"merges\":null"), 13, "\"merges\":" + nested(1'000'000));
  expect_bounded_error([&] { pythia::model::Tokenizer::from_json_text(text, "tokenizer.json"); },
                       "a BPE merge is neither");
}

// --- pickles -------------------------------------------------------------------------------

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

// The opcodes restricted_unpickler.cpp implements (see its header); every other one is refused.
const std::set<int> kAllowed = {0x80, 0x95, '(', '.', '}', ']', ')', 't', 0x85, 0x86, 0x87, 'X',
                                0x8c, 0x8d, 'B', 'C', 'J', 'K', 'M', 0x8a, 'G', 'N', 0x88, 0x89,
                                's', 'u', 'a', 'e', 'q', 'r', 0x94, 'h', 'j', 'c', 0x93, 'Q',
                                'R', 'b'};

TEST(HostilePickle, EveryOpcodeOutsideTheAllowlistIsRefused) {
  int refused = 0;
  for (int op = 0; op < 256; ++op) {
    if (kAllowed.contains(op)) continue;
    // PROTO 2, the opcode, then bytes an argument would be read from (a GLOBAL-like line too).
    const std::string pkl = std::string("\x80\x02", 2) + static_cast<char>(op) + "os\nsystem\n" +
                            std::string(16, '\0') + ".";
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", op);
    SCOPED_TRACE(hex);
    expect_bounded_error([&] { pythia::model::unpickle_state_dict(bytes_of(pkl), "data.pkl"); },
                         std::string("pickle opcode ") + hex, 5, 64);
    ++refused;
  }
  EXPECT_EQ(refused, 256 - static_cast<int>(kAllowed.size()));
}

TEST(HostilePickle, GlobalsOutsideTheAllowlistAreRefusedBeforeAnyCall) {
  for (const char* g : {"posix\nsystem", "os\nsystem", "builtins\neval", "builtins\nexec",
                        "subprocess\nPopen", "torch\nload", "torch._utils\n_rebuild_qtensor",
                        "collections\ndefaultdict", "__builtin__\ngetattr"}) {
    SCOPED_TRACE(g);
    const std::string pkl = std::string("\x80\x02", 2) + "c" + g + "\n" +
                            std::string("X\x02\0\0\0id\x85R.", 10);
    expect_bounded_error([&] { pythia::model::unpickle_state_dict(bytes_of(pkl), "data.pkl"); },
                         "which is not allowed in a state_dict", 5, 64);
  }
}

// Found by review of the fuzz target's memory use: every 'N' byte made a ~250-byte value, so a
// 1 GiB data.pkl (allowed, and a few MB deflated) asked for ~256 GB. Now capped at 2^21 opcodes.
TEST(HostilePickle, SixteenMillionNonesAreRefusedWithBoundedMemory) {
  const std::string pkl = std::string("\x80\x02", 2) + std::string(16'000'000, 'N') + ".";
  const auto b = bytes_of(pkl);
  expect_bounded_error([&] { pythia::model::unpickle_state_dict(b, "data.pkl"); },
                       "more than 2097152 opcodes", 20, 1024);
}

TEST(HostilePickle, EightMillionMemoReadsAreRefusedWithBoundedMemory) {
  // None memoized, an empty list, MARK, then BINGET 0 eight million times and APPENDS.
  std::string pkl = std::string("\x80\x02", 2) + "N\x94](";
  pkl.reserve(pkl.size() + 16'000'002);
  for (int i = 0; i < 8'000'000; ++i) pkl.append("h\0", 2);
  pkl += "e.";
  const auto b = bytes_of(pkl);
  expect_bounded_error([&] { pythia::model::unpickle_state_dict(b, "data.pkl"); },
                       "more than 2097152 opcodes", 20, 1024);
}

}  // namespace

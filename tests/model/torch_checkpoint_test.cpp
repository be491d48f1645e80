// pytorch_model.bin reader: zip archives written by the test with libzip, pickles assembled
// opcode by opcode (CPython Lib/pickletools.py names), including malicious ones.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zip.h>

#include <cstring>
#include <random>
#include <filesystem>
#include <iostream>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "data/error.h"
#include "model/restricted_unpickler.h"
#include "model/tensor_store.h"
#include "model/torch_checkpoint.h"

namespace fs = std::filesystem;
using pythia::DataError;
using pythia::model::DType;
using pythia::model::TensorStore;

namespace {

// --- a tiny pickle assembler -------------------------------------------------------------------
struct Pickle {
  std::string s = std::string("\x80\x02", 2);  // PROTO 2, as torch.save writes
  Pickle& op(char c) { s += c; return *this; }
  Pickle& str(const std::string& v) {  // BINUNICODE
    s += 'X';
    const std::uint32_t n = static_cast<std::uint32_t>(v.size());
    s.append(reinterpret_cast<const char*>(&n), 4);
    s += v;
    return *this;
  }
  Pickle& integer(std::int32_t v) {  // BININT
    s += 'J';
    s.append(reinterpret_cast<const char*>(&v), 4);
    return *this;
  }
  Pickle& global(const std::string& module, const std::string& name) {  // GLOBAL
    s += 'c' + module + '\n' + name + '\n';
    return *this;
  }
  Pickle& ints(const std::vector<std::int32_t>& v) {  // MARK ints TUPLE
    op('(');
    for (const auto x : v) integer(x);
    return op('t');
  }
  // A tensor: _rebuild_tensor_v2(('storage', <type>, key, 'cpu', numel), offset, size, stride,
  // False, OrderedDict()) exactly as torch/serialization.py + torch/_tensor.py pickle it.
  Pickle& tensor(const std::string& type, const std::string& key, int numel, int offset,
                 const std::vector<std::int32_t>& size, const std::vector<std::int32_t>& stride) {
    global("torch._utils", "_rebuild_tensor_v2");
    op('(');
    op('(').str("storage").global("torch", type).str(key).str("cpu").integer(numel).op('t');
    op('Q');  // BINPERSID
    integer(offset).ints(size).ints(stride);
    op('\x89');  // NEWFALSE
    global("collections", "OrderedDict").op(')').op('R');
    op('t').op('R');
    return *this;
  }
  std::string done() { return s + '.'; }
};

std::string floats(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

class TorchCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("torch_checkpoint_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    bin_ = dir_ / "pytorch_model.bin";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes a zip at `path` with the given entries (stored, like torch's writer).
  static void write_zip(const fs::path& path,
                        const std::vector<std::pair<std::string, std::string>>& entries,
                        std::int32_t method = ZIP_CM_STORE) {
    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    ASSERT_NE(z, nullptr);
    for (const auto& [name, data] : entries) {
      zip_source_t* src = zip_source_buffer(z, data.data(), data.size(), 0);
      ASSERT_NE(src, nullptr);
      const zip_int64_t idx = zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE);
      ASSERT_GE(idx, 0);
      zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), method, 0);
    }
    ASSERT_EQ(zip_close(z), 0);
  }

  void write_checkpoint(const std::string& pkl,
                        std::vector<std::pair<std::string, std::string>> storages) {
    std::vector<std::pair<std::string, std::string>> entries = {{"archive/data.pkl", pkl}};
    for (auto& [k, v] : storages) entries.emplace_back("archive/data/" + k, std::move(v));
    entries.emplace_back("archive/version", "3\n");
    write_zip(bin_, entries);
  }

  // Expects opening the folder to fail with a message naming pytorch_model.bin and `what`.
  void expect_refused(const std::string& what) {
    try {
      TensorStore::open(dir_);
      ADD_FAILURE() << "accepted; wanted: " << what;
    } catch (const DataError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(bin_.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << "message: " << msg << "\nwanted: " << what;
    }
  }

  fs::path dir_, bin_;
};

TEST_F(TorchCheckpointTest, ReadsStateDictWithSharedStorageAndOffsets) {
  // Storage 0: 8 floats shared by "w" ([2, 3] at offset 0) and "tail" ([2] at offset 6);
  // storage 1: F16 [2]; storage 2: BF16 scalar. Memo (BINPUT/BINGET) as torch emits it.
  Pickle p;
  p.op('}').op('q').s += '\0';  // EMPTY_DICT, BINPUT 0
  p.op('(');
  p.str("w").tensor("FloatStorage", "0", 8, 0, {2, 3}, {3, 1});
  p.str("tail").tensor("FloatStorage", "0", 8, 6, {2}, {1});
  p.str("h").tensor("HalfStorage", "1", 2, 0, {2}, {1});
  p.str("b").tensor("BFloat16Storage", "2", 1, 0, {}, {});
  p.op('u');  // SETITEMS
  const std::uint16_t half[] = {0x3c00, 0xc000};
  const std::uint16_t bf[] = {0x4049};
  write_checkpoint(p.done(), {{"0", floats({1, 2, 3, 4, 5, 6, 7, 8})},
                              {"1", std::string(reinterpret_cast<const char*>(half), 4)},
                              {"2", std::string(reinterpret_cast<const char*>(bf), 2)}});
  const auto store = TensorStore::open(dir_);
  EXPECT_EQ(store.description(), "pytorch_model.bin (BF16, F16, F32)");
  EXPECT_EQ(store.names(), (std::vector<std::string>{"b", "h", "tail", "w"}));
  const std::int64_t s23[] = {2, 3}, s2[] = {2};
  EXPECT_EQ(store.read_f32("w", s23), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(store.read_f32("tail", s2), (std::vector<float>{7, 8}));
  EXPECT_EQ(store.read_f32("h", s2), (std::vector<float>{1, -2}));
  EXPECT_EQ(store.read_f32("b", {}), (std::vector<float>{3.140625f}));
  EXPECT_EQ(store.find("w")->dtype, DType::kF32);
  // Shared storage: both views point into one buffer.
  EXPECT_EQ(store.find("w")->bytes.data() + 24, store.find("tail")->bytes.data());
}

TEST_F(TorchCheckpointTest, ReadsOrderedDictWithMetadata) {
  // model.state_dict() is an OrderedDict carrying a `_metadata` attribute; protocol 2 pickles it
  // as OrderedDict() REDUCE, SETITEMS, then {'_metadata': OrderedDict({'': {'version': 1}})} BUILD.
  Pickle p;
  p.global("collections", "OrderedDict").op(')').op('R');
  p.op('(').str("w").tensor("FloatStorage", "0", 2, 0, {2}, {1}).op('u');
  p.op('}').str("_metadata").global("collections", "OrderedDict").op(')').op('R');
  p.str("").op('}').str("version").integer(1).op('s').op('s');  // OrderedDict[''] = {...}
  p.op('s');                                                     // state['_metadata'] = ...
  p.op('b');                                                     // BUILD
  write_checkpoint(p.done(), {{"0", floats({5, 6})}});
  const auto store = TensorStore::open(dir_);
  EXPECT_EQ(store.names(), std::vector<std::string>{"w"});
  const std::int64_t s2[] = {2};
  EXPECT_EQ(store.read_f32("w", s2), (std::vector<float>{5, 6}));
  // BUILD on anything but a dict is refused.
  Pickle q;
  q.op('}').str("w").tensor("FloatStorage", "0", 2, 0, {2}, {1}).op('}').op('b').op('s');
  write_checkpoint(q.done(), {{"0", floats({5, 6})}});
  expect_refused("BUILD on a tensor is not allowed");
}

TEST_F(TorchCheckpointTest, RefusesMaliciousGlobalsWithoutRunningAnything) {
  const fs::path marker = dir_ / "pwned";
  // The classic payload: GLOBAL 'posix system', ('touch <marker>',), REDUCE.
  Pickle p;
  p.global("posix", "system").op('(').str("touch " + marker.string()).op('t').op('R');
  write_checkpoint(p.done(), {});
  expect_refused("pickle names global 'posix.system', which is not allowed in a state_dict; "
                 "refusing to load");
  EXPECT_FALSE(fs::exists(marker));

  Pickle q;  // os.system via GLOBAL inside an otherwise normal state_dict
  q.op('}').op('(').str("w").global("os", "system").str("touch " + marker.string()).op('\x85')
      .op('R').op('u');
  write_checkpoint(q.done(), {});
  expect_refused("pickle names global 'os.system'");

  Pickle r;  // builtins.eval via STACK_GLOBAL (protocol 4 style)
  r.str("builtins").str("eval").op('\x93').str("__import__('os').system('touch x')").op('\x85')
      .op('R');
  write_checkpoint(r.done(), {});
  expect_refused("pickle names global 'builtins.eval'");

  Pickle t;  // a torch global that is not on the allowlist
  t.global("torch", "load").op(')').op('R');
  write_checkpoint(t.done(), {});
  expect_refused("pickle names global 'torch.load'");
  EXPECT_FALSE(fs::exists(marker));
}

TEST_F(TorchCheckpointTest, RefusesDisallowedOpcodesAndMalformedPickles) {
  write_checkpoint(Pickle().op('(').str("os").str("system").op('i').done(), {});  // INST
  expect_refused("pickle opcode 0x69 ('i') is not allowed in a state_dict");
  write_checkpoint(Pickle().op('(').op('o').done(), {});  // OBJ
  expect_refused("pickle opcode 0x6f ('o') is not allowed");
  write_checkpoint(Pickle().op('}').s, {});  // no STOP
  expect_refused("truncated pickle");
  write_checkpoint(Pickle().op('h').op('\x07').done(), {});  // BINGET of nothing
  expect_refused("memo entry 7, never stored");
  write_checkpoint(Pickle().op('R').done(), {});
  expect_refused("pickle stack underflow");
  write_checkpoint(Pickle().op(']').done(), {});
  expect_refused("holds a list, not a state_dict");
  write_checkpoint(Pickle().op('}').str("x").integer(5).op('s').done(), {});
  expect_refused("state_dict entry 'x' is a int, not a tensor");
  write_checkpoint(Pickle().global("collections", "OrderedDict").str("x").op('\x85').op('R').done(),
                   {});
  expect_refused("collections.OrderedDict called with arguments");
  write_checkpoint(Pickle().global("torch", "FloatStorage").op(')').op('R').done(), {});
  expect_refused("global 'torch.FloatStorage' may not be called");
}

TEST_F(TorchCheckpointTest, RefusesBadTensors) {
  const auto one = [&](const std::string& name, Pickle tensor_pickle, const std::string& data) {
    Pickle p;
    p.op('}').str(name);
    p.s += tensor_pickle.s.substr(2);
    p.op('s');
    write_checkpoint(p.done(), {{"0", data}});
  };
  one("nc", Pickle().tensor("FloatStorage", "0", 6, 0, {2, 3}, {1, 2}), floats({1, 2, 3, 4, 5, 6}));
  expect_refused("tensor 'nc' is not contiguous (shape [2, 3], stride [1, 2])");
  one("far", Pickle().tensor("FloatStorage", "0", 6, 4, {2, 2}, {2, 1}), floats({1, 2, 3, 4, 5, 6}));
  expect_refused("tensor 'far' (offset 4, shape [2, 2]) reaches past the end of its storage of 6");
  one("huge", Pickle().tensor("FloatStorage", "0", 6, 0, {2147483647, 2147483647, 2147483647, 4},
                              {1, 1, 1, 1}),
      floats({1, 2, 3, 4, 5, 6}));  // 2^93 * 4 elements: must not wrap around to 4
  expect_refused("tensor 'huge' (offset 0, shape [2147483647, 2147483647, 2147483647, 4]) "
                 "reaches past the end of its storage of 6 elements");
  one("empty", Pickle().tensor("FloatStorage", "0", 6, 0, {0, 2147483647, 2147483647, 2147483647},
                               {1, 1, 1, 1}),
      floats({1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(TensorStore::open(dir_).find("empty")->bytes.size(), 0u);
  one("short", Pickle().tensor("FloatStorage", "0", 6, 0, {6}, {1}), floats({1, 2, 3}));
  expect_refused("tensor 'short': storage archive/data/0 holds 12 bytes but 6 elements of F32 "
                 "need 24");
  {
    Pickle p;
    p.op('}').str("lost");
    p.s += Pickle().tensor("FloatStorage", "9", 1, 0, {1}, {1}).s.substr(2);
    p.op('s');
    write_checkpoint(p.done(), {});
    expect_refused("tensor 'lost': storage entry archive/data/9 is missing from the archive");
  }
}

TEST_F(TorchCheckpointTest, RefusesBrokenArchives) {
  Pickle p;
  p.op('}').str("w");
  p.s += Pickle().tensor("FloatStorage", "0", 4, 0, {4}, {1}).s.substr(2);
  p.op('s');
  write_checkpoint(p.done(), {{"0", floats({1, 2, 3, 4})}});
  std::string whole;
  {
    std::ifstream in(bin_, std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_NO_THROW(TensorStore::open(dir_));
  // Truncated zip: the central directory is gone.
  std::ofstream(bin_, std::ios::binary | std::ios::trunc) << whole.substr(0, whole.size() / 2);
  expect_refused("not a readable zip-format torch checkpoint");
  // Corrupted storage bytes: caught by the CRC.
  std::string flipped = whole;
  const auto at = flipped.find(floats({1, 2, 3, 4}));
  ASSERT_NE(at, std::string::npos);
  flipped[at + 1] ^= 0x55;
  std::ofstream(bin_, std::ios::binary | std::ios::trunc) << flipped;
  expect_refused("archive/data/0 is corrupt");
  // Not a zip; and the legacy (torch < 1.6) format, a bare pickle stream.
  std::ofstream(bin_, std::ios::binary | std::ios::trunc) << "hello";
  expect_refused("not a readable zip-format torch checkpoint");
  std::ofstream(bin_, std::ios::binary | std::ios::trunc) << std::string("\x80\x02\x8a\x0a", 4);
  expect_refused("legacy (torch < 1.6, non-zip) torch.save format is not supported");
  // A zip without data.pkl.
  write_zip(bin_, {{"hello.txt", "hi"}});
  expect_refused("zip archive has no <name>/data.pkl");
  // Big-endian storages (torch >= 2.1 byteorder record).
  write_zip(bin_, {{"archive/data.pkl", p.done()}, {"archive/byteorder", "big"},
                   {"archive/data/0", floats({1, 2, 3, 4})}});
  expect_refused("storages are stored big-endian");
}

TEST_F(TorchCheckpointTest, StoredEntriesMappedCompressedEntriesInflated) {
  Pickle p;
  p.op('}').str("w");
  p.s += Pickle().tensor("FloatStorage", "0", 4, 0, {4}, {1}).s.substr(2);
  p.op('s');
  write_zip(bin_, {{"archive/data.pkl", p.done()}, {"archive/data/0", floats({1, 2, 3, 4})}});
  auto c = pythia::model::read_torch_checkpoint(bin_);
  EXPECT_EQ(c.mapped_storages, 1);
  EXPECT_EQ(c.copied_storages, 0);
  ASSERT_EQ(c.tensors.size(), 1u);
  EXPECT_EQ(std::memcmp(c.tensors[0].bytes.data(), floats({1, 2, 3, 4}).data(), 16), 0);
  // Same archive with deflated entries: read through libzip instead.
  write_zip(bin_, {{"archive/data.pkl", p.done()}, {"archive/data/0", floats({1, 2, 3, 4})}},
            ZIP_CM_DEFLATE);
  c = pythia::model::read_torch_checkpoint(bin_);
  EXPECT_EQ(c.mapped_storages, 0);
  EXPECT_EQ(c.copied_storages, 1);
  const std::int64_t s4[] = {4};
  EXPECT_EQ(TensorStore::open(dir_).read_f32("w", s4), (std::vector<float>{1, 2, 3, 4}));
}

TEST(RestrictedUnpickler, DeepNestingAndCyclesAreHarmless) {
  // 500k nested 1-tuples (one byte each): must not overflow the stack when freed.
  std::string deep = std::string("\x80\x02)", 3) + std::string(500000, '\x85') + ".";
  const auto bytes = [](const std::string& s) {
    return std::span(reinterpret_cast<const std::byte*>(s.data()), s.size());
  };
  try {
    pythia::model::unpickle_state_dict(bytes(deep), "deep.pkl");
    ADD_FAILURE();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("holds a tuple, not a state_dict"), std::string::npos);
  }
  // A list that contains itself (memo + APPEND), then STOP with it.
  const std::string cyc = std::string("\x80\x02]q\x00h\x00a.", 9);
  EXPECT_THROW(pythia::model::unpickle_state_dict(bytes(cyc), "cycle.pkl"), DataError);
}

TEST(RestrictedUnpickler, MutatedPicklesOnlyEverThrowDataError) {
  // Deterministic mutation fuzzing of a valid state_dict pickle: every outcome must be a parsed
  // state_dict or a DataError (run under PYTHIA_SANITIZE=ON to also check memory safety).
  Pickle p;
  p.op('}').op('q').s += '\0';
  p.op('(');
  p.str("w").tensor("FloatStorage", "0", 8, 0, {2, 3}, {3, 1});
  p.str("t").tensor("HalfStorage", "1", 2, 0, {2}, {1});
  p.op('u');
  const std::string good = p.done();
  std::mt19937 rng(20240601);
  int parsed = 0, refused = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      const std::size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[at] = static_cast<char>(rng()); break;
        case 1: s.erase(at, 1 + rng() % 8); break;
        default: s.insert(at, 1, static_cast<char>(rng())); break;
      }
      if (s.empty()) s = ".";
    }
    try {
      const auto ts = pythia::model::unpickle_state_dict(
          std::span(reinterpret_cast<const std::byte*>(s.data()), s.size()), "fuzz.pkl");
      ++parsed;
    } catch (const DataError&) {
      ++refused;
    }
  }
  EXPECT_EQ(parsed + refused, 20000);
  EXPECT_GT(refused, 15000);  // most mutations break the structure
  std::cout << "fuzz: " << parsed << " parsed, " << refused << " refused\n";
}

TEST_F(TorchCheckpointTest, MutatedCheckpointsOnlyEverThrowDataError) {
  // Byte flips in data.pkl (names, shapes, offsets, strides, element counts, opcodes) through the
  // whole reader; every tensor that loads is read completely, so a wrong span would be caught by
  // AddressSanitizer in PYTHIA_SANITIZE builds.
  Pickle p;
  p.op('}').op('(');
  p.str("w").tensor("FloatStorage", "0", 8, 0, {2, 3}, {3, 1});
  p.str("tail").tensor("FloatStorage", "0", 8, 6, {2}, {1});
  p.str("h").tensor("HalfStorage", "1", 3, 1, {2}, {1});
  p.op('u');
  const std::string good = p.done();
  const std::uint16_t half[] = {0x3c00, 0xc000, 0x4000};
  // Payload offsets of every BININT ('J' + 4 bytes): numel, offsets, sizes, strides.
  std::vector<std::size_t> ints;
  for (std::size_t i = 0; i + 4 < good.size(); ++i) {
    if (good[i] == 'J') ints.push_back(i + 1);
  }
  ASSERT_EQ(ints.size(), 6u + 4u + 4u);  // numel, offset, size, stride of [2, 3], [2], [2]
  std::mt19937 rng(99);
  int loaded = 0, refused = 0;
  constexpr int kIters = 400;
  for (int iter = 0; iter < kIters; ++iter) {
    std::string s = good;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k) {
      if (iter % 2 == 0) {  // an integer becomes a small or extreme value
        const std::int32_t choices[] = {-1, 0, 1, 2, 3, 5, 7, 8, 9, 1 << 30, INT32_MAX, INT32_MIN};
        const std::int32_t v = choices[rng() % 12];
        std::memcpy(s.data() + ints[rng() % ints.size()], &v, 4);
      } else {  // any byte flips a bit
        s[rng() % s.size()] ^= static_cast<char>(1 << (rng() % 8));
      }
    }
    write_checkpoint(s, {{"0", floats({1, 2, 3, 4, 5, 6, 7, 8})},
                         {"1", std::string(reinterpret_cast<const char*>(half), 6)}});
    try {
      const auto store = TensorStore::open(dir_);
      for (const auto& name : store.names()) {
        const auto* t = store.find(name);
        ASSERT_EQ(t->bytes.size(), static_cast<std::size_t>(pythia::model::element_count(t->shape)) *
                                       pythia::model::dtype_size(t->dtype));
        if (t->dtype == DType::kF32 || t->dtype == DType::kF16 || t->dtype == DType::kBF16) {
          (void)store.read_f32(name, t->shape);
        }
      }
      ++loaded;
    } catch (const DataError&) {
      ++refused;
    }
  }
  EXPECT_EQ(loaded + refused, kIters);
  EXPECT_GT(loaded, 20);
  EXPECT_GT(refused, 100);
  std::cout << "checkpoint fuzz: " << loaded << " loaded, " << refused << " refused\n";
}

TEST_F(TorchCheckpointTest, ShardedBinIndex) {
  Pickle a, b;
  a.op('}').str("x");
  a.s += Pickle().tensor("FloatStorage", "0", 2, 0, {2}, {1}).s.substr(2);
  a.op('s');
  b.op('}').str("y");
  b.s += Pickle().tensor("FloatStorage", "0", 1, 0, {1}, {1}).s.substr(2);
  b.op('s');
  write_zip(dir_ / "pytorch_model-00001-of-00002.bin",
            {{"pytorch_model-00001-of-00002/data.pkl", a.done()},
             {"pytorch_model-00001-of-00002/data/0", floats({1, 2})}});
  write_zip(dir_ / "pytorch_model-00002-of-00002.bin",
            {{"archive/data.pkl", b.done()}, {"archive/data/0", floats({9})}});
  std::ofstream(dir_ / "pytorch_model.bin.index.json")
      << R"({"metadata": {"total_size": 12}, "weight_map": {"x": "pytorch_model-00001-of-00002.bin", "y": "pytorch_model-00002-of-00002.bin"}})";
  const auto store = TensorStore::open(dir_);
  EXPECT_EQ(store.description(), "pytorch_model.bin.index.json (2 shards) (F32)");
  const std::int64_t s2[] = {2}, s1[] = {1};
  EXPECT_EQ(store.read_f32("x", s2), (std::vector<float>{1, 2}));
  EXPECT_EQ(store.read_f32("y", s1), (std::vector<float>{9}));
}

}  // namespace

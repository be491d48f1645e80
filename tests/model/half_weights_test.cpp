// Half-precision weights (model/gemm.h PanelDType, model/neox_weights.h): fp16 / bf16 matrices
// kept as stored and widened inside the GEMM give exactly the bits of the same weights in fp32.
//   - float16.h widening is exact for all 65536 patterns of each type (and agrees with the loader's
//     F16C conversion); narrowing rounds to nearest even (checked against a brute-force search)
//   - matmul_packed / matmul_panels on fp16 and bf16 panels == on fp32 panels of the widened
//     weights, bitwise, on every ISA the CPU has (odd shapes, tails, the parallel path, subnormal
//     and extreme weights), and PackedWeight keeps every element (row maps, chunk callbacks)
//   - whole models: the F16 fixtures (pythia-tiny, neox-variant) against fp32 copies of their
//     weights, a bf16 copy against its fp32 copy, pytorch_model.bin against model.safetensors and
//     random models in fp16/bf16 against their fp32 twins: forward() logits (every row) and
//     decode() logits bit-identical on every ISA
//   - the loader releases the mapped checkpoint's pages (resident set) after packing
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "model/float16.h"
#include "model/gemm.h"
#include "model/gpt_neox.h"
#include "model/neox_weights.h"
#include "model/tensor_store.h"
#include "tests/test_util.h"

namespace pythia::model {
namespace {

namespace fs = std::filesystem;
const fs::path kFix = PYTHIA_FIXTURES_DIR;
const GemmIsa kAllIsas[] = {GemmIsa::kAvx512, GemmIsa::kAvx2, GemmIsa::kPortable};

// Restores the ISA chosen at start-up when a test ends.
class HalfWeights : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = gemm_isa(); }
  void TearDown() override { set_gemm_isa_for_testing(saved_); }
  GemmIsa saved_{};
};

bool same_bits(float a, float b) { return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b); }

// ---- float16.h -----------------------------------------------------------------------------

// The value an fp16 pattern denotes, computed independently in double.
double f16_value(std::uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
  const double v = exp == 0 ? std::ldexp(man, -24) : std::ldexp(1024 + man, exp - 25);
  return sign ? -v : v;
}

TEST(Float16, WideningIsExactForEveryPattern) {
  std::vector<std::byte> all(2 * 65536);
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<std::uint16_t>(i);
    std::memcpy(all.data() + 2 * i, &h, 2);
  }
  std::vector<float> hw(65536), table(65536);
  ASSERT_TRUE(convert_to_f32(DType::kF16, all.data(), 65536, hw.data()));  // F16C if the CPU has it
  convert_f16_to_f32_portable(all.data(), 65536, table.data());
  int bad = 0;
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<std::uint16_t>(i);
    const float f = f16_to_f32(h);
    const int exp = (h >> 10) & 31, man = h & 1023;
    if (exp == 31) {
      if (man == 0) bad += !(std::isinf(f) && std::signbit(f) == bool(h >> 15));
      else bad += !(std::isnan(f) && (std::bit_cast<std::uint32_t>(f) >> 13 & 1023) == static_cast<std::uint32_t>(man));
      bad += !(std::isnan(f) == std::isnan(hw[i]) && std::isnan(f) == std::isnan(table[i]));
      continue;
    }
    bad += !(static_cast<double>(f) == f16_value(h) && std::signbit(f) == bool(h >> 15));
    bad += !same_bits(f, hw[i]) + !same_bits(f, table[i]);
    bad += f32_to_f16(f) != h;  // narrowing an fp16 value gives it back
  }
  EXPECT_EQ(bad, 0);
  int bad_bf = 0;
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<std::uint16_t>(i);
    const float f = bf16_to_f32(h);
    bad_bf += std::bit_cast<std::uint32_t>(f) != (i << 16);
    if (!std::isnan(f)) bad_bf += f32_to_bf16(f) != h;
  }
  EXPECT_EQ(bad_bf, 0);
}

TEST(Float16, NarrowingRoundsToNearestEven) {
  // Hand-picked ties and limits.
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // tie -> even (1.0)
  EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie -> even (1 + 2 ulp)
  EXPECT_EQ(f32_to_f16(65519.0f), 0x7bff);                          // 65504
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);                          // tie -> inf
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);             // tie -> 0
  EXPECT_EQ(f32_to_f16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie -> even
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  // Random floats against a brute-force nearest-even search over the finite fp16 values.
  std::vector<std::pair<double, std::uint16_t>> finite;
  for (std::uint32_t i = 0; i < 65536; ++i)
    if (((i >> 10) & 31) != 31 && i != 0x8000) finite.push_back({f16_value(static_cast<std::uint16_t>(i)), static_cast<std::uint16_t>(i)});
  std::sort(finite.begin(), finite.end());
  std::mt19937 rng(11);
  int bad = 0;
  for (int n = 0; n < 20000; ++n) {
    const float x = std::ldexp(std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng),
                               std::uniform_int_distribution<int>(-27, 16)(rng));
    if (std::abs(x) >= 65520.0f || x == 0.0f) continue;
    auto it = std::lower_bound(finite.begin(), finite.end(), std::pair<double, std::uint16_t>{x, 0});
    if (it == finite.end()) --it;  // (65504, 65520): rounds down to 65504
    std::uint16_t want = it->second;
    if (it != finite.begin() && it->first >= x) {
      const auto lo = *(it - 1), hi = *it;
      const double dl = x - lo.first, dh = hi.first - x;
      want = dl < dh ? lo.second : dh < dl ? hi.second : ((lo.second & 1) ? hi.second : lo.second);
    }
    if (f16_value(want) == 0.0) want = std::signbit(x) ? 0x8000 : 0;  // signed zero
    bad += f32_to_f16(x) != want;
  }
  EXPECT_EQ(bad, 0);
}

// ---- GEMM ---------------------------------------------------------------------------------

// Random 16-bit weights of `dtype` with some subnormals, zeros, -0 and extremes mixed in (no
// inf/NaN: products with them are checked by the ISA test's fp32 path already).
std::vector<std::uint16_t> random_half(PanelDType dtype, std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<std::uint16_t> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    float x = d(rng);
    switch (rng() % 16) {
      case 0: x *= 1e-6f; break;  // fp16 subnormal range
      case 1: x = 0.0f; break;
      case 2: x = -0.0f; break;
      case 3: x *= 3e4f; break;   // near the fp16 maximum
      default: break;
    }
    v[i] = dtype == PanelDType::kF16 ? f32_to_f16(x) : f32_to_bf16(x);
  }
  return v;
}

std::vector<float> widen(PanelDType dtype, const std::vector<std::uint16_t>& h) {
  std::vector<float> f(h.size());
  for (std::size_t i = 0; i < h.size(); ++i) f[i] = dtype == PanelDType::kF16 ? f16_to_f32(h[i]) : bf16_to_f32(h[i]);
  return f;
}

std::vector<float> random_floats(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

int mismatches(const std::vector<float>& a, const std::vector<float>& b) {
  int bad = 0;
  for (std::size_t i = 0; i < a.size(); ++i) bad += !same_bits(a[i], b[i]);
  return bad;
}

TEST_F(HalfWeights, PackedWeightKeepsEveryElement) {
  for (const PanelDType dtype : {PanelDType::kF16, PanelDType::kBF16}) {
    const int N = 150, K = 37;
    const auto h = random_half(dtype, static_cast<std::size_t>(N) * K, 1);
    const auto f = widen(dtype, h);
    std::vector<int> calls;
    const PackedWeight P(dtype, h.data(), N, K, {}, [&](int r) { calls.push_back(r); });
    EXPECT_EQ(P.dtype(), dtype);
    EXPECT_EQ(P.bytes(), static_cast<std::size_t>(3 * 64 * K * 2));
    EXPECT_EQ(P.bytes() * 2, PackedWeight(f.data(), N, K).bytes());
    ASSERT_FALSE(calls.empty());
    EXPECT_TRUE(std::is_sorted(calls.begin(), calls.end()));
    EXPECT_EQ(calls.back(), N);
    for (int n = 0; n < N; ++n)
      for (int k = 0; k < K; ++k) ASSERT_TRUE(same_bits(P.at(n, k), f[static_cast<std::size_t>(n) * K + k]));
    // A row map (here: reversed rows) packs row n from source row map[n].
    std::vector<int> map(N);
    for (int n = 0; n < N; ++n) map[static_cast<std::size_t>(n)] = N - 1 - n;
    calls.clear();
    const PackedWeight R(dtype, h.data(), N, K, map, [&](int r) { calls.push_back(r); });
    EXPECT_EQ(calls, std::vector<int>{N});
    for (int n = 0; n < N; ++n)
      for (int k = 0; k < K; ++k)
        ASSERT_TRUE(same_bits(R.at(n, k), f[static_cast<std::size_t>(N - 1 - n) * K + k]));
    map[0] = N;
    EXPECT_THROW(PackedWeight(dtype, h.data(), N, K, map), std::invalid_argument);
  }
  // F32 through the raw constructor (unaligned source) equals the float constructor.
  const int N = 70, K = 9;
  const auto f = random_floats(static_cast<std::size_t>(N) * K, 3);
  std::vector<std::byte> unaligned(f.size() * 4 + 1);
  std::memcpy(unaligned.data() + 1, f.data(), f.size() * 4);
  const PackedWeight A(PanelDType::kF32, unaligned.data() + 1, N, K), B(f.data(), N, K);
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k) ASSERT_TRUE(same_bits(A.at(n, k), B.at(n, k)));
}

TEST_F(HalfWeights, HalfPanelsGiveTheFp32BitsOnEveryIsa) {
  std::mt19937 rng(2027);
  struct Shape { int M, N, K; };
  std::vector<Shape> shapes = {{1, 1, 1},    {5, 7, 3},    {6, 16, 8},    {7, 17, 9},
                               {13, 63, 31}, {11, 64, 64}, {12, 65, 1},   {3, 130, 257},
                               {19, 200, 0}, {1, 2048, 512}, {203, 1031, 200} /* parallel */};
  for (int i = 0; i < 10; ++i)
    shapes.push_back({1 + static_cast<int>(rng() % 40), 1 + static_cast<int>(rng() % 300),
                      1 + static_cast<int>(rng() % 150)});
  int compared = 0;
  for (const PanelDType dtype : {PanelDType::kF16, PanelDType::kBF16}) {
    for (std::size_t si = 0; si < shapes.size(); ++si) {
      const auto [M, N, K] = shapes[si];
      const int ldx = K + 3, ldy = N + 5;
      const auto X = random_floats(static_cast<std::size_t>(M) * ldx, 10 + static_cast<unsigned>(si));
      const auto h = random_half(dtype, static_cast<std::size_t>(N) * K, 20 + static_cast<unsigned>(si));
      const auto f = widen(dtype, h);
      const auto b = random_floats(static_cast<std::size_t>(N), 30 + static_cast<unsigned>(si));
      const PackedWeight Ph(dtype, h.data(), N, K), Pf(f.data(), N, K);
      for (GemmIsa isa : kAllIsas) {
        if (!set_gemm_isa_for_testing(isa)) continue;
        for (const bool with_bias : {true, false}) {
          const float* bias = with_bias ? b.data() : nullptr;
          std::vector<float> yh(static_cast<std::size_t>(M) * ldy, 7.0f), yf(yh.size(), 7.0f),
              yv(yh.size(), 7.0f);
          matmul_packed(M, X.data(), ldx, Ph, bias, yh.data(), ldy);
          matmul_packed(M, X.data(), ldx, Pf, bias, yf.data(), ldy);
          matmul_panels(M, X.data(), ldx, Ph.view(), bias, yv.data(), ldy);
          EXPECT_EQ(mismatches(yh, yf), 0) << panel_dtype_name(dtype) << " " << gemm_isa_name(isa)
                                           << " M=" << M << " N=" << N << " K=" << K;
          EXPECT_EQ(mismatches(yv, yf), 0) << "matmul_panels " << gemm_isa_name(isa);
          ++compared;
        }
      }
      std::vector<float> yp(static_cast<std::size_t>(M) * ldy, 7.0f), yf(yp.size(), 7.0f);
      matmul_packed_portable(M, X.data(), ldx, Ph, b.data(), yp.data(), ldy);
      set_gemm_isa_for_testing(GemmIsa::kPortable);
      matmul_packed(M, X.data(), ldx, Pf, b.data(), yf.data(), ldy);
      EXPECT_EQ(mismatches(yp, yf), 0);
    }
  }
  std::printf("%d (dtype, shape, ISA, bias) half-panel products equal their fp32 twins bitwise\n",
              compared);
}

// ---- whole models ---------------------------------------------------------------------------

// Writes a model.safetensors holding `tensors` (name -> (dtype, shape, bytes)).
struct RawTensor {
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::vector<std::byte> bytes;
};

void write_safetensors(const fs::path& file, const std::map<std::string, RawTensor>& tensors) {
  std::string header = "{";
  std::size_t off = 0;
  for (const auto& [name, t] : tensors) {
    if (header.size() > 1) header += ",";
    header += "\"" + name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
    for (std::size_t i = 0; i < t.shape.size(); ++i) {
      if (i > 0) header += ",";
      header += std::to_string(t.shape[i]);
    }
    header += "],\"data_offsets\":[" + std::to_string(off) + "," + std::to_string(off + t.bytes.size()) + "]}";
    off += t.bytes.size();
  }
  header += "}";
  while (header.size() % 8) header += ' ';
  std::ofstream out(file, std::ios::binary);
  const std::uint64_t len = header.size();
  out.write(reinterpret_cast<const char*>(&len), 8);
  out << header;
  for (const auto& [name, t] : tensors)
    out.write(reinterpret_cast<const char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
}

// Copies the checkpoint `src` (F16 tensors) to `dst` with every tensor as `dtype`: "F32" widens
// exactly; "BF16" rounds each fp16 value to bf16; "F32-of-BF16" stores those bf16 values in F32.
void convert_checkpoint(const fs::path& src, const fs::path& dst, const std::string& dtype) {
  fs::create_directories(dst);
  fs::copy_file(src / "config.json", dst / "config.json", fs::copy_options::overwrite_existing);
  const auto store = TensorStore::open(src);
  std::map<std::string, RawTensor> out;
  for (const auto& name : store.names()) {
    const TensorInfo* t = store.find(name);
    const auto f = store.read_f32(name, t->shape);
    RawTensor r;
    r.shape = t->shape;
    if (dtype == "F32" || dtype == "F32-of-BF16") {
      r.dtype = "F32";
      r.bytes.resize(f.size() * 4);
      std::vector<float> v = f;
      if (dtype == "F32-of-BF16")
        for (auto& x : v) x = bf16_to_f32(f32_to_bf16(x));
      std::memcpy(r.bytes.data(), v.data(), r.bytes.size());
    } else {
      r.dtype = "BF16";
      r.bytes.resize(f.size() * 2);
      for (std::size_t i = 0; i < f.size(); ++i) {
        const std::uint16_t h = f32_to_bf16(f[i]);
        std::memcpy(r.bytes.data() + 2 * i, &h, 2);
      }
    }
    out[name] = std::move(r);
  }
  write_safetensors(dst / "model.safetensors", out);
}

// Logits of every row of forward() over each sequence, then of 3 decode() steps (all in one
// vector).
std::vector<float> all_logits(const GptNeox& m, const std::vector<std::vector<Token>>& seqs) {
  std::vector<float> out;
  const int V = m.vocab_size();
  for (const auto& s : seqs) {
    KvCache cache = m.make_cache(static_cast<int>(s.size()) + 3);
    std::vector<int> rows(s.size());
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int>(i);
    std::vector<float> fw(s.size() * static_cast<std::size_t>(V));
    m.forward(s, cache, rows, [&](int r, std::span<const float> lg) {
      std::copy(lg.begin(), lg.end(), fw.begin() + static_cast<std::ptrdiff_t>(r) * V);
    });
    out.insert(out.end(), fw.begin(), fw.end());
    KvCache* caches[] = {&cache};
    for (int step = 0; step < 3; ++step) {
      const Token t[] = {static_cast<Token>((s.back() + 17 * step) % V)};
      m.decode(t, caches, [&](int, std::span<const float> lg) { out.insert(out.end(), lg.begin(), lg.end()); });
    }
  }
  return out;
}

// Lengths 1, 7 and 70 (two attention chunks, a partial row chunk), ids below `vocab`.
std::vector<std::vector<Token>> test_sequences(int vocab = 50304) {
  std::mt19937 rng(5);
  std::vector<std::vector<Token>> seqs;
  for (const int len : {1, 7, 70}) {
    std::vector<Token> s(static_cast<std::size_t>(len));
    for (auto& t : s) t = static_cast<Token>(rng() % static_cast<unsigned>(vocab));
    seqs.push_back(s);
  }
  return seqs;
}

// Loads two checkpoint folders and checks their logits agree bitwise on every ISA.
void expect_same_logits(const fs::path& a, const fs::path& b, const char* what) {
  const auto ma = load_gpt_neox(a), mb = load_gpt_neox(b);
  std::printf("%s: %s matrices (%.2f MB) vs %s (%.2f MB)\n", what,
              ma->weights().matrix_dtypes().c_str(), ma->weights().bytes() / 1e6,
              mb->weights().matrix_dtypes().c_str(), mb->weights().bytes() / 1e6);
  const auto seqs = test_sequences();
  for (GemmIsa isa : kAllIsas) {
    if (!set_gemm_isa_for_testing(isa)) continue;
    const auto la = all_logits(*ma, seqs), lb = all_logits(*mb, seqs);
    ASSERT_EQ(la.size(), lb.size());
    EXPECT_EQ(mismatches(la, lb), 0) << what << " on " << gemm_isa_name(isa);
    std::printf("  %s: %zu logits compared bitwise\n", gemm_isa_name(isa), la.size());
  }
}

TEST_F(HalfWeights, Fp16FixturesEqualTheirFp32Copies) {
  for (const char* name : {"pythia-tiny", "neox-variant"}) {
    const fs::path f32 = testing::fresh_temp_dir(std::string("half_f32_") + name);
    convert_checkpoint(kFix / name, f32, "F32");
    EXPECT_EQ(TensorStore::open(kFix / name).description(), "model.safetensors (F16)");
    EXPECT_EQ(TensorStore::open(f32).description(), "model.safetensors (F32)");
    {
      const auto m = load_gpt_neox(kFix / name);
      EXPECT_EQ(m->weights().matrix_dtypes(), "F16");
    }
    expect_same_logits(kFix / name, f32, name);
    fs::remove_all(f32);
  }
}

TEST_F(HalfWeights, Bf16CheckpointEqualsItsFp32Copy) {
  const fs::path bf = testing::fresh_temp_dir("half_bf16"), f32 = testing::fresh_temp_dir("half_bf16_f32");
  convert_checkpoint(kFix / "neox-variant", bf, "BF16");
  convert_checkpoint(kFix / "neox-variant", f32, "F32-of-BF16");
  EXPECT_EQ(load_gpt_neox(bf)->weights().matrix_dtypes(), "BF16");
  expect_same_logits(bf, f32, "neox-variant in bf16");
  fs::remove_all(bf);
  fs::remove_all(f32);
}

TEST_F(HalfWeights, TorchBinEqualsSafetensors) {
  const fs::path dir = testing::fresh_temp_dir("half_bin");
  fs::copy_file(kFix / "pythia-tiny/config.json", dir / "config.json");
  gzFile in = gzopen((kFix / "pythia-tiny/pytorch_model.bin.gz").c_str(), "rb");
  ASSERT_NE(in, nullptr);
  {
    std::ofstream out(dir / "pytorch_model.bin", std::ios::binary);
    std::vector<char> buf(1 << 20);
    int k;
    while ((k = gzread(in, buf.data(), static_cast<unsigned>(buf.size()))) > 0) out.write(buf.data(), k);
  }
  gzclose(in);
  const auto store = TensorStore::open(dir);
  EXPECT_TRUE(store.find("embed_out.weight")->file_backed);
  expect_same_logits(dir, kFix / "pythia-tiny", "pythia-tiny pytorch_model.bin vs model.safetensors");
  fs::remove_all(dir);
}

TEST_F(HalfWeights, RandomHalfModelsEqualTheirFp32Twins) {
  NeoxConfig c;
  c.hidden_size = 128;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 320;  // not a multiple of 64: panel tails
  c.vocab_size = 1000;        // small: the portable path stays quick
  for (const PanelDType dtype : {PanelDType::kF16, PanelDType::kBF16}) {
    const auto half = GptNeox::random(c, 77, dtype);
    const auto twin = GptNeox::random(c, 77, PanelDType::kF32, dtype);
    EXPECT_EQ(half->weights().matrix_dtypes(), panel_dtype_name(dtype));
    EXPECT_EQ(twin->weights().matrix_dtypes(), "F32");
    const double ratio = static_cast<double>(half->weights().bytes()) / twin->weights().bytes();
    std::printf("%s weights %.2f MB vs fp32 %.2f MB (%.3f)\n", panel_dtype_name(dtype),
                half->weights().bytes() / 1e6, twin->weights().bytes() / 1e6, ratio);
    EXPECT_LT(ratio, 0.51);
    const auto seqs = test_sequences(c.vocab_size);
    for (GemmIsa isa : kAllIsas) {
      if (!set_gemm_isa_for_testing(isa)) continue;
      EXPECT_EQ(mismatches(all_logits(*half, seqs), all_logits(*twin, seqs)), 0)
          << panel_dtype_name(dtype) << " on " << gemm_isa_name(isa);
    }
  }
  // The fp32 random model keeps the values it had before half storage existed (same draws).
  const auto a = random_neox_weights(c, 77), b = random_neox_weights(c, 77, PanelDType::kF32, PanelDType::kF32);
  EXPECT_TRUE(same_bits(a.layers[1].fc.at(5, 7), b.layers[1].fc.at(5, 7)));
  EXPECT_THROW(random_neox_weights(c, 1, PanelDType::kF16, PanelDType::kBF16), std::invalid_argument);
}

// Resident set size of this process in bytes (/proc/self/statm).
std::size_t rss_bytes() {
  std::ifstream in("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

TEST(HalfWeightsLoader, ReleasingPagesShrinksTheResidentSet) {
  const auto store = TensorStore::open(kFix / "neox-variant");
  const TensorInfo* t = store.find("embed_out.weight");  // 50304 x 96 fp16 = 9.7 MB
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->file_backed);
  release_tensor_pages(*t, 0, t->bytes.size());
  const std::size_t before = rss_bytes();
  volatile unsigned sum = 0;
  for (std::size_t i = 0; i < t->bytes.size(); i += 512) sum = sum + static_cast<unsigned>(t->bytes[i]);
  const std::size_t touched = rss_bytes();
  release_tensor_pages(*t, 0, t->bytes.size());
  const std::size_t after = rss_bytes();
  std::printf("RSS %.1f MB, after reading the 9.7 MB tensor %.1f MB, after release %.1f MB\n",
              before / 1e6, touched / 1e6, after / 1e6);
  EXPECT_GT(touched, before + 8'000'000);
  EXPECT_LT(after, touched - 8'000'000);
  // The bytes are still readable (faulted in again from the file).
  std::vector<float> v(t->bytes.size() / 2);
  EXPECT_NO_THROW(store.read_f32_into("embed_out.weight", t->shape, v));
  // In-memory tensors are never released (MADV_DONTNEED would zero them).
  std::vector<std::byte> heap(1 << 20, std::byte{1});
  TensorInfo mem;
  mem.bytes = heap;
  release_tensor_pages(mem, 0, heap.size());
  EXPECT_EQ(heap[4096 * 3], std::byte{1});
}

}  // namespace
}  // namespace pythia::model

// Loads the vendored pythia-tiny checkpoint (tests/fixtures/pythia-tiny, see its README.md) in
// both published formats and checks they agree bit for bit.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/error.h"
#include "model/neox_config.h"
#include "model/tensor_store.h"
#include "model/torch_checkpoint.h"

namespace fs = std::filesystem;
using pythia::model::DType;
using pythia::model::TensorStore;

namespace {

const fs::path kTiny = fs::path(PYTHIA_FIXTURES_DIR) / "pythia-tiny";

// Expected parameter names and shapes (transformers 4.40.2 GPTNeoXForCausalLM, hidden 64,
// intermediate 256, 2 layers, vocab 50304: shared/fixtures/README.md).
std::vector<std::pair<std::string, std::vector<std::int64_t>>> expected_parameters() {
  const std::int64_t H = 64, I = 256, V = 50304;
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> p;
  p.push_back({"gpt_neox.embed_in.weight", {V, H}});
  for (int l = 0; l < 2; ++l) {
    const std::string pre = "gpt_neox.layers." + std::to_string(l) + ".";
    p.push_back({pre + "input_layernorm.weight", {H}});
    p.push_back({pre + "input_layernorm.bias", {H}});
    p.push_back({pre + "post_attention_layernorm.weight", {H}});
    p.push_back({pre + "post_attention_layernorm.bias", {H}});
    p.push_back({pre + "attention.query_key_value.weight", {3 * H, H}});
    p.push_back({pre + "attention.query_key_value.bias", {3 * H}});
    p.push_back({pre + "attention.dense.weight", {H, H}});
    p.push_back({pre + "attention.dense.bias", {H}});
    p.push_back({pre + "mlp.dense_h_to_4h.weight", {I, H}});
    p.push_back({pre + "mlp.dense_h_to_4h.bias", {I}});
    p.push_back({pre + "mlp.dense_4h_to_h.weight", {H, I}});
    p.push_back({pre + "mlp.dense_4h_to_h.bias", {H}});
  }
  p.push_back({"gpt_neox.final_layer_norm.weight", {H}});
  p.push_back({"gpt_neox.final_layer_norm.bias", {H}});
  p.push_back({"embed_out.weight", {V, H}});
  return p;
}

TEST(LoaderGolden, ConfigMatchesReadme) {
  const auto c = pythia::model::read_neox_config(kTiny / "config.json");
  EXPECT_EQ(c.vocab_size, 50304);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.num_hidden_layers, 2);
  EXPECT_EQ(c.num_attention_heads, 4);
  EXPECT_EQ(c.intermediate_size, 256);
  EXPECT_EQ(c.rotary_pct, 0.25);
  EXPECT_EQ(c.rotary_emb_base, 10000.0);
  EXPECT_EQ(c.max_position_embeddings, 2048);
  EXPECT_EQ(c.layer_norm_eps, 1e-5);
  EXPECT_TRUE(c.use_parallel_residual);
  EXPECT_EQ(c.torch_dtype, "float16");
  EXPECT_EQ(c.bos_token_id, 0);
  EXPECT_EQ(c.eos_token_id, 0);
  EXPECT_EQ(c.head_dim(), 16);
  EXPECT_EQ(c.rotary_dim(), 4);
}

TEST(LoaderGolden, SafetensorsHasEveryParameter) {
  const auto store = TensorStore::open(kTiny);
  EXPECT_EQ(store.description(), "model.safetensors (F16)");
  const auto params = expected_parameters();
  EXPECT_EQ(store.names().size(), params.size());  // 28 tensors (golden README)
  std::int64_t total = 0;
  for (const auto& [name, shape] : params) {
    const auto* t = store.find(name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(t->dtype, DType::kF16) << name;
    EXPECT_EQ(t->shape, shape) << name;
    const auto v = store.read_f32(name, shape);
    ASSERT_EQ(static_cast<std::int64_t>(v.size()), pythia::model::element_count(shape));
    total += static_cast<std::int64_t>(v.size());
    for (const float x : v) ASSERT_TRUE(std::isfinite(x)) << name;
  }
  EXPECT_EQ(total, 6539008);  // parameter count in shared/golden/pythia-tiny/README.md
}

TEST(LoaderGolden, SafetensorsValuesMatchHiddenGolden) {
  // hidden_len0007_embed_in.f32 (shared/golden/pythia-tiny, made by transformers 4.40.2 in fp32)
  // holds the token embeddings of sequence len0007, i.e. rows of embed_in.weight upcast to fp32.
  // Token ids of len0007 from shared/golden/pythia-tiny/sequences.json.
  const std::vector<int> ids = {1269, 426, 540, 9, 5423, 1587, 7845};
  std::ifstream in(kTiny / "hidden_len0007_embed_in.f32", std::ios::binary);
  ASSERT_TRUE(in);
  std::vector<float> golden(7 * 64);
  in.read(reinterpret_cast<char*>(golden.data()), static_cast<std::streamsize>(golden.size() * 4));
  ASSERT_TRUE(in);
  const auto store = TensorStore::open(kTiny);
  const std::int64_t shape[] = {50304, 64};
  const auto emb = store.read_f32("gpt_neox.embed_in.weight", shape);
  int mismatches = 0;
  for (std::size_t p = 0; p < ids.size(); ++p) {
    for (int h = 0; h < 64; ++h) {
      const float want = golden[p * 64 + h];
      const float got = emb[static_cast<std::size_t>(ids[p]) * 64 + h];
      if (std::memcmp(&want, &got, 4) != 0 && mismatches++ == 0) {
        ADD_FAILURE() << "first mismatch at position " << p << " dim " << h << ": golden " << want
                      << ", loaded " << got;
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << ids.size() * 64 << " values (bitwise)";
}

// Gunzips the vendored pytorch_model.bin.gz into a fresh temporary checkpoint folder.
fs::path unpack_bin() {
  const fs::path dir = fs::temp_directory_path() /
                       ("loader_golden_bin_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  gzFile in = gzopen((kTiny / "pytorch_model.bin.gz").c_str(), "rb");
  EXPECT_NE(in, nullptr);
  if (in == nullptr) return dir;
  std::ofstream out(dir / "pytorch_model.bin", std::ios::binary);
  std::vector<char> buf(1 << 20);
  int n;
  while ((n = gzread(in, buf.data(), static_cast<unsigned>(buf.size()))) > 0) out.write(buf.data(), n);
  EXPECT_EQ(n, 0) << "gzread failed";
  gzclose(in);
  fs::copy_file(kTiny / "config.json", dir / "config.json");
  return dir;
}

TEST(LoaderGolden, PytorchBinEqualsSafetensorsBitForBit) {
  const fs::path bin_dir = unpack_bin();
  const auto bin = TensorStore::open(bin_dir);
  const auto st = TensorStore::open(kTiny);
  EXPECT_EQ(bin.description(), "pytorch_model.bin (F16, U8)");
  // torch writes storages uncompressed: all 34 (28 parameters + 6 buffers) are used in place.
  const auto raw = pythia::model::read_torch_checkpoint(bin_dir / "pytorch_model.bin");
  EXPECT_EQ(raw.mapped_storages, 34);
  EXPECT_EQ(raw.copied_storages, 0);
  // Every parameter: same dtype, shape and bytes.
  int compared = 0;
  for (const auto& [name, shape] : expected_parameters()) {
    const auto* a = bin.find(name);
    const auto* b = st.find(name);
    ASSERT_NE(a, nullptr) << name;
    ASSERT_NE(b, nullptr) << name;
    EXPECT_EQ(a->dtype, b->dtype) << name;
    EXPECT_EQ(a->shape, b->shape) << name;
    ASSERT_EQ(a->bytes.size(), b->bytes.size()) << name;
    const auto fa = bin.read_f32(name, shape);
    const auto fb = st.read_f32(name, shape);
    std::size_t first = fa.size();
    for (std::size_t i = 0; i < fa.size(); ++i) {
      if (std::memcmp(&fa[i], &fb[i], 4) != 0) {
        first = i;
        break;
      }
    }
    EXPECT_EQ(first, fa.size()) << name << ": first differing element " << first;
    EXPECT_EQ(std::memcmp(a->bytes.data(), b->bytes.data(), a->bytes.size()), 0) << name;
    ++compared;
  }
  EXPECT_EQ(compared, 28);
  // The .bin also carries three buffers per layer (shared/fixtures/README.md); nothing else.
  EXPECT_EQ(bin.names().size(), 28u + 3u * 2u);
  for (int l = 0; l < 2; ++l) {
    const std::string pre = "gpt_neox.layers." + std::to_string(l) + ".attention.";
    const auto* mask = bin.find(pre + "bias");
    ASSERT_NE(mask, nullptr);
    EXPECT_EQ(mask->dtype, DType::kU8);
    EXPECT_EQ(mask->shape, (std::vector<std::int64_t>{1, 1, 2048, 2048}));
    // Lower-triangular causal mask.
    const auto* m = reinterpret_cast<const std::uint8_t*>(mask->bytes.data());
    EXPECT_EQ(m[0], 1);
    EXPECT_EQ(m[1], 0);
    EXPECT_EQ(m[2048 * 2047 + 2047], 1);
    const auto* masked = bin.find(pre + "masked_bias");
    ASSERT_NE(masked, nullptr);
    EXPECT_TRUE(masked->shape.empty());
    const std::int64_t scalar[] = {0};
    const auto mb = bin.read_f32(pre + "masked_bias", std::span<const std::int64_t>(scalar, 0));
    ASSERT_EQ(mb.size(), 1u);
    EXPECT_TRUE(std::isinf(mb[0]) && mb[0] < 0);  // -1e9 cast to float16
    const auto* inv = bin.find(pre + "rotary_emb.inv_freq");
    ASSERT_NE(inv, nullptr);
    EXPECT_EQ(inv->shape, (std::vector<std::int64_t>{2}));  // rotary_ndims 4 / 2
    // A U8 buffer cannot be read as fp32 weights.
    const std::int64_t mshape[] = {1, 1, 2048, 2048};
    EXPECT_THROW(bin.read_f32(pre + "bias", mshape), pythia::DataError);
  }
  fs::remove_all(bin_dir);
}

}  // namespace

#include "model/neox_weights.h"

#include <algorithm>
#include <string>

namespace pythia::model {
namespace {

// Shapes in units of the config: C = hidden, I = intermediate, V = vocab.
enum class Shape { kC, k3C, kCxC, k3CxC, kIxC, kCxI, kI, kVxC };

std::vector<std::int64_t> dims(Shape s, const NeoxConfig& c) {
  const std::int64_t C = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  switch (s) {
    case Shape::kC: return {C};
    case Shape::k3C: return {3 * C};
    case Shape::kCxC: return {C, C};
    case Shape::k3CxC: return {3 * C, C};
    case Shape::kIxC: return {I, C};
    case Shape::kCxI: return {C, I};
    case Shape::kI: return {I};
    case Shape::kVxC: return {V, C};
  }
  return {};
}

struct LayerEntry {
  const char* suffix;  // after "gpt_neox.layers.N."
  std::vector<float> NeoxLayerWeights::*field;
  Shape shape;
};

// THE name table (transformers 4.40.2 GPTNeoXLayer parameter names).
constexpr LayerEntry kLayerTable[] = {
    {"input_layernorm.weight", &NeoxLayerWeights::ln1_w, Shape::kC},
    {"input_layernorm.bias", &NeoxLayerWeights::ln1_b, Shape::kC},
    {"post_attention_layernorm.weight", &NeoxLayerWeights::ln2_w, Shape::kC},
    {"post_attention_layernorm.bias", &NeoxLayerWeights::ln2_b, Shape::kC},
    {"attention.query_key_value.weight", &NeoxLayerWeights::qkv_w, Shape::k3CxC},
    {"attention.query_key_value.bias", &NeoxLayerWeights::qkv_b, Shape::k3C},
    {"attention.dense.weight", &NeoxLayerWeights::dense_w, Shape::kCxC},
    {"attention.dense.bias", &NeoxLayerWeights::dense_b, Shape::kC},
    {"mlp.dense_h_to_4h.weight", &NeoxLayerWeights::fc_w, Shape::kIxC},
    {"mlp.dense_h_to_4h.bias", &NeoxLayerWeights::fc_b, Shape::kI},
    {"mlp.dense_4h_to_h.weight", &NeoxLayerWeights::proj_w, Shape::kCxI},
    {"mlp.dense_4h_to_h.bias", &NeoxLayerWeights::proj_b, Shape::kC},
};

struct ModelEntry {
  const char* name;
  std::vector<float> NeoxWeights::*field;
  Shape shape;
};

constexpr ModelEntry kModelTable[] = {
    {"gpt_neox.embed_in.weight", &NeoxWeights::embed_in, Shape::kVxC},
    {"gpt_neox.final_layer_norm.weight", &NeoxWeights::final_ln_w, Shape::kC},
    {"gpt_neox.final_layer_norm.bias", &NeoxWeights::final_ln_b, Shape::kC},
    {"embed_out.weight", &NeoxWeights::embed_out, Shape::kVxC},
};

std::string layer_name(int layer, const char* suffix) {
  return "gpt_neox.layers." + std::to_string(layer) + "." + suffix;
}

// HF query_key_value rows are [H, 3, D] (modeling_gpt_neox.py: qkv.view(..., H, 3*D) then split
// into q, k, v of D each); regroup to [3, H, D]. `row_len` = C for the weight, 1 for the bias.
std::vector<float> regroup_qkv(const std::vector<float>& src, int H, int D, std::size_t row_len) {
  std::vector<float> dst(src.size());
  for (int h = 0; h < H; ++h) {
    for (int s = 0; s < 3; ++s) {
      for (int d = 0; d < D; ++d) {
        const std::size_t from = (static_cast<std::size_t>(h) * 3 + s) * D + d;
        const std::size_t to = (static_cast<std::size_t>(s) * H + h) * D + d;
        std::copy_n(src.begin() + static_cast<std::ptrdiff_t>(from * row_len), row_len,
                    dst.begin() + static_cast<std::ptrdiff_t>(to * row_len));
      }
    }
  }
  return dst;
}

void regroup_layer(NeoxLayerWeights& lw, const NeoxConfig& c) {
  lw.qkv_w = regroup_qkv(lw.qkv_w, c.num_attention_heads, c.head_dim(),
                         static_cast<std::size_t>(c.hidden_size));
  lw.qkv_b = regroup_qkv(lw.qkv_b, c.num_attention_heads, c.head_dim(), 1);
}

}  // namespace

std::vector<std::string> neox_tensor_names(const NeoxConfig& config) {
  std::vector<std::string> names;
  names.emplace_back(kModelTable[0].name);
  for (int l = 0; l < config.num_hidden_layers; ++l)
    for (const auto& e : kLayerTable) names.push_back(layer_name(l, e.suffix));
  for (std::size_t i = 1; i < std::size(kModelTable); ++i) names.emplace_back(kModelTable[i].name);
  return names;
}

NeoxWeights load_neox_weights(const TensorStore& store, const NeoxConfig& config) {
  NeoxWeights w;
  for (const auto& e : kModelTable) w.*(e.field) = store.read_f32(e.name, dims(e.shape, config));
  w.layers.resize(static_cast<std::size_t>(config.num_hidden_layers));
  for (int l = 0; l < config.num_hidden_layers; ++l) {
    NeoxLayerWeights& lw = w.layers[static_cast<std::size_t>(l)];
    for (const auto& e : kLayerTable)
      lw.*(e.field) = store.read_f32(layer_name(l, e.suffix), dims(e.shape, config));
    regroup_layer(lw, config);
  }
  return w;
}

NeoxWeights random_neox_weights(const NeoxConfig& config, std::uint64_t seed) {
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&state]() {  // splitmix64 -> uniform in [-0.0346, 0.0346] (std 0.02)
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const double u = static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);
    return static_cast<float>((2.0 * u - 1.0) * 0.034641);
  };
  auto fill = [&](std::vector<float>& v, Shape s, bool is_matrix, float constant) {
    std::int64_t n = 1;
    for (const auto d : dims(s, config)) n *= d;
    v.resize(static_cast<std::size_t>(n));
    for (auto& x : v) x = is_matrix ? next() : constant;
  };
  NeoxWeights w;
  fill(w.embed_in, Shape::kVxC, true, 0.0f);
  fill(w.final_ln_w, Shape::kC, false, 1.0f);
  fill(w.final_ln_b, Shape::kC, false, 0.0f);
  fill(w.embed_out, Shape::kVxC, true, 0.0f);
  w.layers.resize(static_cast<std::size_t>(config.num_hidden_layers));
  for (auto& lw : w.layers) {
    for (const auto& e : kLayerTable) {
      const bool is_matrix = e.shape == Shape::kCxC || e.shape == Shape::k3CxC ||
                             e.shape == Shape::kIxC || e.shape == Shape::kCxI;
      const bool is_ln_weight = e.field == &NeoxLayerWeights::ln1_w || e.field == &NeoxLayerWeights::ln2_w;
      fill(lw.*(e.field), e.shape, is_matrix, is_ln_weight ? 1.0f : 0.0f);
    }
  }
  return w;
}

}  // namespace pythia::model

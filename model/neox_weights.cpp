#include "model/neox_weights.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>
#include <string>

#include "data/error.h"
#include "model/float16.h"

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

// One parameter: exactly one of `vec` (fp32 vector) and `mat` (packed matrix) is set.
struct LayerEntry {
  const char* suffix;  // after "gpt_neox.layers.N."
  std::vector<float> NeoxLayerWeights::*vec;
  PackedWeight NeoxLayerWeights::*mat;
  Shape shape;
};

// THE name table (transformers 4.40.2 GPTNeoXLayer parameter names).
constexpr LayerEntry kLayerTable[] = {
    {"input_layernorm.weight", &NeoxLayerWeights::ln1_w, nullptr, Shape::kC},
    {"input_layernorm.bias", &NeoxLayerWeights::ln1_b, nullptr, Shape::kC},
    {"post_attention_layernorm.weight", &NeoxLayerWeights::ln2_w, nullptr, Shape::kC},
    {"post_attention_layernorm.bias", &NeoxLayerWeights::ln2_b, nullptr, Shape::kC},
    {"attention.query_key_value.weight", nullptr, &NeoxLayerWeights::qkv, Shape::k3CxC},
    {"attention.query_key_value.bias", &NeoxLayerWeights::qkv_b, nullptr, Shape::k3C},
    {"attention.dense.weight", nullptr, &NeoxLayerWeights::dense, Shape::kCxC},
    {"attention.dense.bias", &NeoxLayerWeights::dense_b, nullptr, Shape::kC},
    {"mlp.dense_h_to_4h.weight", nullptr, &NeoxLayerWeights::fc, Shape::kIxC},
    {"mlp.dense_h_to_4h.bias", &NeoxLayerWeights::fc_b, nullptr, Shape::kI},
    {"mlp.dense_4h_to_h.weight", nullptr, &NeoxLayerWeights::proj, Shape::kCxI},
    {"mlp.dense_4h_to_h.bias", &NeoxLayerWeights::proj_b, nullptr, Shape::kC},
};

// Model-level parameters: exactly one of `vec`, `mat`, `table` is set.
struct ModelEntry {
  const char* name;
  std::vector<float> NeoxWeights::*vec;
  PackedWeight NeoxWeights::*mat;
  RowTable NeoxWeights::*table;
  Shape shape;
};

constexpr ModelEntry kModelTable[] = {
    {"gpt_neox.embed_in.weight", nullptr, nullptr, &NeoxWeights::embed_in, Shape::kVxC},
    {"gpt_neox.final_layer_norm.weight", &NeoxWeights::final_ln_w, nullptr, nullptr, Shape::kC},
    {"gpt_neox.final_layer_norm.bias", &NeoxWeights::final_ln_b, nullptr, nullptr, Shape::kC},
    {"embed_out.weight", nullptr, &NeoxWeights::embed_out, nullptr, Shape::kVxC},
};

std::string layer_name(int layer, const char* suffix) {
  return "gpt_neox.layers." + std::to_string(layer) + "." + suffix;
}

// HF query_key_value rows are [H, 3, D] (modeling_gpt_neox.py: qkv.view(..., H, 3*D) then split
// into q, k, v of D each); we keep [3, H, D]: packed row (s*H + h)*D + d is HF row (h*3 + s)*D + d.
std::vector<int> qkv_row_map(const NeoxConfig& c) {
  const int H = c.num_attention_heads, D = c.head_dim();
  std::vector<int> map(static_cast<std::size_t>(3) * H * D);
  for (int h = 0; h < H; ++h)
    for (int s = 0; s < 3; ++s)
      for (int d = 0; d < D; ++d) map[static_cast<std::size_t>((s * H + h) * D + d)] = (h * 3 + s) * D + d;
  return map;
}

std::vector<float> regroup_qkv_bias(const std::vector<float>& src, const NeoxConfig& c) {
  const auto map = qkv_row_map(c);
  std::vector<float> dst(src.size());
  for (std::size_t i = 0; i < map.size(); ++i) dst[i] = src[static_cast<std::size_t>(map[i])];
  return dst;
}

PanelDType panel_dtype_of(const TensorInfo& t) {
  switch (t.dtype) {
    case DType::kF32: return PanelDType::kF32;
    case DType::kF16: return PanelDType::kF16;
    case DType::kBF16: return PanelDType::kBF16;
    default:
      throw DataError(t.file, "tensor '" + t.name + "' has dtype " +
                                  std::string(dtype_name(t.dtype)) +
                                  "; only F16, BF16 and F32 weights are supported");
  }
}

DType dtype_of(PanelDType t) {
  switch (t) {
    case PanelDType::kF32: return DType::kF32;
    case PanelDType::kF16: return DType::kF16;
    case PanelDType::kBF16: return DType::kBF16;
  }
  return DType::kF32;
}

// Releases the mapped pages of `t` as rows are consumed: rows_read(r) drops the bytes of rows
// [done, r) (whole pages only), so at most one chunk of the tensor is resident at a time.
struct PageReleaser {
  const TensorInfo& t;
  std::size_t row_bytes;
  std::size_t done = 0;
  void operator()(int rows) {
    const std::size_t end = static_cast<std::size_t>(rows) * row_bytes;
    release_tensor_pages(t, done, end);
    done = end;
  }
};

PackedWeight pack_tensor(const TensorInfo& t, int N, int K, std::span<const int> row_map = {}) {
  const PanelDType dtype = panel_dtype_of(t);
  PageReleaser release{t, static_cast<std::size_t>(K) * panel_dtype_size(dtype)};
  return PackedWeight(dtype, t.bytes.data(), N, K, row_map, std::ref(release));
}

std::vector<float> read_vector(const TensorStore& store, const std::string& name,
                               const std::vector<std::int64_t>& shape) {
  auto v = store.read_f32(name, shape);
  const TensorInfo& t = store.require(name, shape);
  release_tensor_pages(t, 0, t.bytes.size());
  return v;
}

}  // namespace

RowTable::RowTable(PanelDType dtype, const void* src, int rows, int cols,
                   const std::function<void(int)>& on_rows_read)
    : dtype_(dtype), rows_(rows), cols_(cols) {
  data_ = std::make_unique_for_overwrite<std::byte[]>(std::max<std::size_t>(1, bytes()));
  const std::size_t row_bytes = static_cast<std::size_t>(cols) * panel_dtype_size(dtype);
  constexpr int kChunkRows = 1024;
  for (int r0 = 0; r0 < rows; r0 += kChunkRows) {
    const int r1 = std::min(rows, r0 + kChunkRows);
    std::memcpy(data_.get() + static_cast<std::size_t>(r0) * row_bytes,
                static_cast<const std::byte*>(src) + static_cast<std::size_t>(r0) * row_bytes,
                static_cast<std::size_t>(r1 - r0) * row_bytes);
    if (on_rows_read) on_rows_read(r1);
  }
}

void RowTable::row(int r, float* out) const {
  const std::size_t esize = panel_dtype_size(dtype_);
  convert_to_f32(dtype_of(dtype_), data_.get() + static_cast<std::size_t>(r) * cols_ * esize,
                 static_cast<std::size_t>(cols_), out);
}

std::size_t NeoxWeights::bytes() const {
  std::size_t n = embed_in.bytes() + embed_out.bytes();
  n += (final_ln_w.size() + final_ln_b.size()) * sizeof(float);
  for (const auto& l : layers) {
    n += l.qkv.bytes() + l.dense.bytes() + l.fc.bytes() + l.proj.bytes();
    for (const auto* v : {&l.ln1_w, &l.ln1_b, &l.ln2_w, &l.ln2_b, &l.qkv_b, &l.dense_b, &l.fc_b,
                          &l.proj_b})
      n += v->size() * sizeof(float);
  }
  return n;
}

std::string NeoxWeights::matrix_dtypes() const {
  std::set<std::string> names{panel_dtype_name(embed_in.dtype()), panel_dtype_name(embed_out.dtype())};
  for (const auto& l : layers)
    for (const auto* m : {&l.qkv, &l.dense, &l.fc, &l.proj}) names.insert(panel_dtype_name(m->dtype()));
  std::string s;
  for (const auto& n : names) {
    if (!s.empty()) s += ", ";
    s += n;
  }
  return s;
}

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
  const std::vector<int> qkv_map = qkv_row_map(config);
  auto load_model_entry = [&](const ModelEntry& e) {
    const auto shape = dims(e.shape, config);
    if (e.vec != nullptr) {
      w.*(e.vec) = read_vector(store, e.name, shape);
      return;
    }
    const TensorInfo& t = store.require(e.name, shape);
    const int rows = static_cast<int>(shape[0]), cols = static_cast<int>(shape[1]);
    if (e.mat != nullptr) {
      w.*(e.mat) = pack_tensor(t, rows, cols);
    } else {
      const PanelDType dtype = panel_dtype_of(t);
      PageReleaser release{t, static_cast<std::size_t>(cols) * panel_dtype_size(dtype)};
      w.*(e.table) = RowTable(dtype, t.bytes.data(), rows, cols, std::ref(release));
    }
  };
  load_model_entry(kModelTable[0]);  // embed_in
  w.layers.resize(static_cast<std::size_t>(config.num_hidden_layers));
  for (int l = 0; l < config.num_hidden_layers; ++l) {
    NeoxLayerWeights& lw = w.layers[static_cast<std::size_t>(l)];
    for (const auto& e : kLayerTable) {
      const std::string name = layer_name(l, e.suffix);
      const auto shape = dims(e.shape, config);
      if (e.vec != nullptr) {
        lw.*(e.vec) = read_vector(store, name, shape);
        continue;
      }
      const TensorInfo& t = store.require(name, shape);
      const bool is_qkv = e.mat == &NeoxLayerWeights::qkv;
      lw.*(e.mat) = pack_tensor(t, static_cast<int>(shape[0]), static_cast<int>(shape[1]),
                                is_qkv ? std::span<const int>(qkv_map) : std::span<const int>());
    }
    lw.qkv_b = regroup_qkv_bias(lw.qkv_b, config);
  }
  for (std::size_t i = 1; i < std::size(kModelTable); ++i) load_model_entry(kModelTable[i]);
  return w;
}

NeoxWeights random_neox_weights(const NeoxConfig& config, std::uint64_t seed, PanelDType storage) {
  return random_neox_weights(config, seed, storage, storage);
}

NeoxWeights random_neox_weights(const NeoxConfig& config, std::uint64_t seed, PanelDType storage,
                                PanelDType precision) {
  if (precision != PanelDType::kF32 && precision != storage && storage != PanelDType::kF32)
    throw std::invalid_argument("random_neox_weights: precision must be F32, the storage type, "
                                "or narrower than F32 storage");
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&state]() {  // splitmix64 -> uniform in [-0.0346, 0.0346] (std 0.02)
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const double u = static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);
    return static_cast<float>((2.0 * u - 1.0) * 0.034641);
  };
  // One random matrix, rounded to `precision`, in `storage` bits (the same draws in the same
  // order whatever the types, so the values agree across storage types).
  std::vector<float> f;
  std::vector<std::uint16_t> h;
  auto matrix = [&](Shape s) -> const void* {
    const auto d = dims(s, config);
    f.resize(static_cast<std::size_t>(d[0] * d[1]));
    for (auto& x : f) {
      x = next();
      if (precision == PanelDType::kF16) x = f16_to_f32(f32_to_f16(x));
      else if (precision == PanelDType::kBF16) x = bf16_to_f32(f32_to_bf16(x));
    }
    if (storage == PanelDType::kF32) return f.data();
    h.resize(f.size());
    for (std::size_t i = 0; i < f.size(); ++i)
      h[i] = storage == PanelDType::kF16 ? f32_to_f16(f[i]) : f32_to_bf16(f[i]);
    return h.data();
  };
  auto constant = [&](Shape s, float c) {
    return std::vector<float>(static_cast<std::size_t>(dims(s, config)[0]), c);
  };
  const int C = config.hidden_size, I = config.intermediate_size, V = config.vocab_size;
  NeoxWeights w;
  {
    const void* m = matrix(Shape::kVxC);
    w.embed_in = RowTable(storage, m, V, C);
  }
  w.final_ln_w = constant(Shape::kC, 1.0f);
  w.final_ln_b = constant(Shape::kC, 0.0f);
  w.embed_out = PackedWeight(storage, matrix(Shape::kVxC), V, C);
  w.layers.resize(static_cast<std::size_t>(config.num_hidden_layers));
  for (auto& lw : w.layers) {
    // Table order (the draw order of the fp32 random weights before half storage existed);
    // the qkv rows are already "regrouped" (random values need no HF order).
    lw.ln1_w = constant(Shape::kC, 1.0f);
    lw.ln1_b = constant(Shape::kC, 0.0f);
    lw.ln2_w = constant(Shape::kC, 1.0f);
    lw.ln2_b = constant(Shape::kC, 0.0f);
    lw.qkv = PackedWeight(storage, matrix(Shape::k3CxC), 3 * C, C);
    lw.qkv_b = constant(Shape::k3C, 0.0f);
    lw.dense = PackedWeight(storage, matrix(Shape::kCxC), C, C);
    lw.dense_b = constant(Shape::kC, 0.0f);
    lw.fc = PackedWeight(storage, matrix(Shape::kIxC), I, C);
    lw.fc_b = constant(Shape::kI, 0.0f);
    lw.proj = PackedWeight(storage, matrix(Shape::kCxI), C, I);
    lw.proj_b = constant(Shape::kC, 0.0f);
  }
  return w;
}

}  // namespace pythia::model

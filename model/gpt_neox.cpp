#include "model/gpt_neox.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/gemm.h"
#include "model/gemm_bf16.h"
#include "model/memory_check.h"
#include "model/tensor_store.h"

namespace pythia::model {

// Large per-task buffers (logit chunks: kLogitChunk x V floats) are reused instead of being
// mmapped, page-faulted and unmapped on every call. A buffer is owned by one task at a time (no
// thread_local: a TBB thread may run another task while waiting inside a nested parallel loop).
class GptNeox::ScratchPool {
 public:
  struct Lease {
    ScratchPool* pool;
    std::vector<float> buf;
    ~Lease() { pool->give_back(std::move(buf)); }
    float* data() { return buf.data(); }
  };
  Lease take(std::size_t n) {
    std::vector<float> b;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::size_t best = free_.size();  // the smallest free buffer that is large enough
      for (std::size_t i = 0; i < free_.size(); ++i) {
        if (free_[i].size() >= n && (best == free_.size() || free_[i].size() < free_[best].size()))
          best = i;
      }
      if (best < free_.size()) {
        b = std::move(free_[best]);
        free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(best));
      }
    }
    if (b.size() < n) b.resize(n);
    return Lease{this, std::move(b)};
  }

 private:
  void give_back(std::vector<float> b) {
    if (b.empty()) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.size() < kMaxFree) free_.push_back(std::move(b));
  }
  static constexpr std::size_t kMaxFree = 16;
  std::mutex mu_;
  std::vector<std::vector<float>> free_;
};

namespace {

using Buffer = std::unique_ptr<float[]>;
Buffer make_buffer(std::size_t n) { return std::make_unique_for_overwrite<float[]>(n); }

template <typename F>
void parallel_tasks(int n_tasks, const F& f) {
  if (n_tasks == 1) {
    f(0);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int>(0, n_tasks, 1),
                    [&](const tbb::blocked_range<int>& r) {
                      for (int i = r.begin(); i < r.end(); ++i) f(i);
                    },
                    tbb::simple_partitioner());
}

// One product with a weight: in bf16 when its bf16 copy `b` is given (bf16 compute), else the
// exact fp32 GEMM.
void linear(int n, const float* X, int ldx, const PackedWeight& w, const Bf16Weight* b,
            const float* bias, float* Y, int ldy) {
  if (b != nullptr) matmul_bf16(n, X, ldx, *b, bias, Y, ldy);
  else matmul_packed(n, X, ldx, w, bias, Y, ldy);
}

std::string layer_tag(int l) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "layer%02d", l);
  return buf;
}

}  // namespace

GptNeox::GptNeox(NeoxConfig config, NeoxWeights weights)
    : GptNeox(std::move(config), std::make_shared<const NeoxWeights>(std::move(weights)), nullptr) {}

GptNeox::GptNeox(NeoxConfig config, std::shared_ptr<const NeoxWeights> weights,
                 std::shared_ptr<const Bf16NeoxWeights> bf16)
    : config_(std::move(config)),
      weights_(std::move(weights)),
      bf16_(std::move(bf16)),
      rotary_(config_.rotary_dim(), config_.rotary_emb_base, config_.max_position_embeddings),
      // modeling_gpt_neox.py: norm_factor = head_size ** -0.5 (a Python double, used as alpha).
      attn_scale_(static_cast<float>(std::pow(static_cast<double>(config_.head_dim()), -0.5))),
      pool_(std::make_unique<ScratchPool>()) {
  if (config_.rotary_dim() % 2 != 0) throw std::invalid_argument("GptNeox: odd rotary_dim");
  if (weights_->layers.size() != static_cast<std::size_t>(config_.num_hidden_layers))
    throw std::invalid_argument("GptNeox: layer count does not match the config");
  const int C = config_.hidden_size, I = config_.intermediate_size, V = config_.vocab_size;
  auto check = [](const PackedWeight& w, int n, int k, const char* what) {
    if (w.n() != n || w.k() != k)
      throw std::invalid_argument(std::string("GptNeox: weight ") + what + " is [" +
                                  std::to_string(w.n()) + ", " + std::to_string(w.k()) +
                                  "], expected [" + std::to_string(n) + ", " + std::to_string(k) + "]");
  };
  auto check_vec = [](const std::vector<float>& v, int n, const char* what) {
    if (v.size() != static_cast<std::size_t>(n))
      throw std::invalid_argument(std::string("GptNeox: vector ") + what + " has the wrong size");
  };
  for (const NeoxLayerWeights& lw : weights_->layers) {
    check(lw.qkv, 3 * C, C, "qkv");
    check(lw.dense, C, C, "dense");
    check(lw.fc, I, C, "fc");
    check(lw.proj, C, I, "proj");
    check_vec(lw.ln1_w, C, "ln1_w");
    check_vec(lw.ln1_b, C, "ln1_b");
    check_vec(lw.ln2_w, C, "ln2_w");
    check_vec(lw.ln2_b, C, "ln2_b");
    check_vec(lw.qkv_b, 3 * C, "qkv_b");
    check_vec(lw.dense_b, C, "dense_b");
    check_vec(lw.fc_b, I, "fc_b");
    check_vec(lw.proj_b, C, "proj_b");
  }
  check(weights_->embed_out, V, C, "embed_out");
  check_vec(weights_->final_ln_w, C, "final_ln_w");
  check_vec(weights_->final_ln_b, C, "final_ln_b");
  if (weights_->embed_in.rows() != V || weights_->embed_in.cols() != C)
    throw std::invalid_argument("GptNeox: embed_in has the wrong shape");
}

GptNeox::~GptNeox() = default;

std::unique_ptr<GptNeox> GptNeox::random(const NeoxConfig& config, std::uint64_t seed,
                                         PanelDType storage) {
  return std::make_unique<GptNeox>(config, random_neox_weights(config, seed, storage));
}

std::unique_ptr<GptNeox> GptNeox::random(const NeoxConfig& config, std::uint64_t seed,
                                         PanelDType storage, PanelDType precision) {
  return std::make_unique<GptNeox>(config, random_neox_weights(config, seed, storage, precision));
}

KvCache GptNeox::make_cache(int capacity) const {
  if (capacity < 0 || capacity > max_positions())
    throw std::invalid_argument("GptNeox::make_cache: capacity " + std::to_string(capacity) +
                                " outside [0, " + std::to_string(max_positions()) + "]");
  return KvCache(config_.num_hidden_layers, config_.num_attention_heads, config_.head_dim(),
                 capacity);
}

void GptNeox::check_cache(const KvCache& cache, int n_new) const {
  if (cache.n_head() != config_.num_attention_heads || cache.head_dim() != config_.head_dim())
    throw std::invalid_argument("GptNeox: cache was not made by this model");
  if (cache.capacity() > max_positions() || cache.length() + n_new > cache.capacity())
    throw std::invalid_argument("GptNeox: " + std::to_string(cache.length()) + " + " +
                                std::to_string(n_new) + " positions exceed the cache capacity " +
                                std::to_string(cache.capacity()));
}

void GptNeox::check_token(Token t) const {
  if (t < 0 || t >= config_.vocab_size)
    throw std::invalid_argument("GptNeox: token id " + std::to_string(t) + " outside [0, " +
                                std::to_string(config_.vocab_size) + ")");
}

void GptNeox::forward(std::span<const Token> tokens, KvCache& cache,
                      std::span<const int> logit_rows, const LogitSink& sink) const {
  forward_with_hook(tokens, cache, logit_rows, sink, ActivationHook());
}

void GptNeox::forward_with_hook(std::span<const Token> tokens, KvCache& cache,
                                std::span<const int> logit_rows, const LogitSink& sink,
                                const ActivationHook& hook) const {
  const int T = static_cast<int>(tokens.size());
  check_cache(cache, T);
  for (const Token t : tokens) check_token(t);
  for (std::size_t k = 0; k < logit_rows.size(); ++k) {
    if (logit_rows[k] < 0 || logit_rows[k] >= T || (k > 0 && logit_rows[k] <= logit_rows[k - 1]))
      throw std::invalid_argument("GptNeox::forward: logit_rows must be increasing, in [0, T)");
  }
  if (T == 0) return;

  const NeoxConfig& cf = config_;
  const int C = cf.hidden_size, C3 = 3 * C, H = cf.num_attention_heads, D = cf.head_dim();
  const int I = cf.intermediate_size, V = cf.vocab_size;
  const int P = cache.length(), cap = cache.capacity();
  const float eps = static_cast<float>(cf.layer_norm_eps);
  const auto TC = static_cast<std::size_t>(T) * C;

  Buffer x = make_buffer(TC), tmp = make_buffer(TC), att = make_buffer(TC);
  Buffer qkv = make_buffer(TC * 3), h4 = make_buffer(static_cast<std::size_t>(T) * I);

  for (int t = 0; t < T; ++t)
    weights_->embed_in.row(tokens[static_cast<std::size_t>(t)], x.get() + static_cast<std::size_t>(t) * C);
  if (hook) hook("embed_in", T, C, x.get());

  const int n_row_chunks = (T + kRowChunk - 1) / kRowChunk;
  const int n_q_chunks = (T + kAttnChunk - 1) / kAttnChunk;
  // Packed keys and values of every head for the current layer (reused across layers).
  auto kv_packed = pool_->take(
      static_cast<std::size_t>(H) *
      (static_cast<std::size_t>((P + T + PackedWeight::kPanel - 1) / PackedWeight::kPanel) * PackedWeight::kPanel * D +
       static_cast<std::size_t>((D + PackedWeight::kPanel - 1) / PackedWeight::kPanel) * PackedWeight::kPanel * (P + T)));
  for (int l = 0; l < cf.num_hidden_layers; ++l) {
    const NeoxLayerWeights& lw = weights_->layers[static_cast<std::size_t>(l)];
    const Bf16LayerWeights* bl = bf16_ ? &bf16_->layers[static_cast<std::size_t>(l)] : nullptr;
    auto b16 = [bl](Bf16Weight Bf16LayerWeights::*f) { return bl ? &(bl->*f) : nullptr; };
    float* kc = cache.k(l);
    float* vc = cache.v(l);

    // 1. ln1 -> qkv -> rotary; K and V into the cache.
    parallel_tasks(n_row_chunks, [&](int c) {
      const int r0 = c * kRowChunk, n = std::min(kRowChunk, T - r0);
      float* ln = tmp.get() + static_cast<std::size_t>(r0) * C;
      float* q = qkv.get() + static_cast<std::size_t>(r0) * C3;
      layer_norm(n, C, x.get() + static_cast<std::size_t>(r0) * C, C, lw.ln1_w.data(),
                 lw.ln1_b.data(), eps, ln, C);
      linear(n, ln, C, lw.qkv, b16(&Bf16LayerWeights::qkv), lw.qkv_b.data(), q, C3);
      for (int i = 0; i < n; ++i) {
        const int pos = P + r0 + i;
        float* row = q + static_cast<std::size_t>(i) * C3;
        for (int h = 0; h < H; ++h) {
          float* qh = row + h * D;
          float* kh = row + C + h * D;
          const float* vh = row + 2 * C + h * D;
          rotary_.apply(qh, pos);
          rotary_.apply(kh, pos);
          const std::size_t at = (static_cast<std::size_t>(h) * cap + pos) * D;
          std::memcpy(kc + at, kh, sizeof(float) * static_cast<std::size_t>(D));
          std::memcpy(vc + at, vh, sizeof(float) * static_cast<std::size_t>(D));
        }
      }
    });

    // 2. causal attention: keys and values of every head packed once for this layer (positions
    //    0 .. P+T-1), then (query chunk, head) tasks.
    const int L = P + T;
    const std::size_t key_panels = static_cast<std::size_t>((L + PackedWeight::kPanel - 1) / PackedWeight::kPanel);
    const std::size_t k_size = key_panels * PackedWeight::kPanel * D;
    const std::size_t v_size = static_cast<std::size_t>((D + PackedWeight::kPanel - 1) / PackedWeight::kPanel) *
                               PackedWeight::kPanel * L;
    parallel_tasks(H, [&](int h) {
      const float* kh = kc + static_cast<std::size_t>(h) * cap * D;
      const float* vh = vc + static_cast<std::size_t>(h) * cap * D;
      pack_panels(kh, D, L, D, kv_packed.data() + static_cast<std::size_t>(h) * (k_size + v_size));
      pack_panels_transposed(vh, D, L, D, kv_packed.data() + static_cast<std::size_t>(h) * (k_size + v_size) + k_size);
    });
    parallel_tasks(n_q_chunks * H, [&](int task) {
      const int qc = task / H, h = task % H;
      const int t0 = qc * kAttnChunk, nq = std::min(kAttnChunk, T - t0);
      const float* base = kv_packed.data() + static_cast<std::size_t>(h) * (k_size + v_size);
      const PanelView keys{base, L, D, static_cast<std::size_t>(D) * PackedWeight::kPanel};
      const PanelView values{base + k_size, D, L, static_cast<std::size_t>(L) * PackedWeight::kPanel};
      auto scratch = pool_->take(static_cast<std::size_t>(nq) * (P + t0 + nq));
      attention_chunk(nq, P + t0, D, attn_scale_,
                      qkv.get() + static_cast<std::size_t>(t0) * C3 + h * D, C3, keys, values,
                      att.get() + static_cast<std::size_t>(t0) * C + h * D, C, scratch.data());
    });

    // 3. dense, MLP, residual.
    parallel_tasks(n_row_chunks, [&](int c) {
      const int r0 = c * kRowChunk, n = std::min(kRowChunk, T - r0);
      const auto off = static_cast<std::size_t>(r0) * C;
      const auto nC = static_cast<std::size_t>(n) * C;
      float* xr = x.get() + off;
      float* a = tmp.get() + off;   // attention output
      float* m = att.get() + off;   // attention heads, then ln2, then mlp output
      float* hr = h4.get() + static_cast<std::size_t>(r0) * I;
      linear(n, m, C, lw.dense, b16(&Bf16LayerWeights::dense), lw.dense_b.data(), a, C);
      if (cf.use_parallel_residual) {
        layer_norm(n, C, xr, C, lw.ln2_w.data(), lw.ln2_b.data(), eps, m, C);
      } else {
        for (std::size_t i = 0; i < nC; ++i) a[i] = a[i] + xr[i];  // attn_output + residual
        layer_norm(n, C, a, C, lw.ln2_w.data(), lw.ln2_b.data(), eps, m, C);
      }
      linear(n, m, C, lw.fc, b16(&Bf16LayerWeights::fc), lw.fc_b.data(), hr, I);
      gelu_inplace(hr, static_cast<std::size_t>(n) * I);
      linear(n, hr, I, lw.proj, b16(&Bf16LayerWeights::proj), lw.proj_b.data(), m, C);
      if (cf.use_parallel_residual) {
        for (std::size_t i = 0; i < nC; ++i) xr[i] = (m[i] + a[i]) + xr[i];  // mlp + attn + x
      } else {
        for (std::size_t i = 0; i < nC; ++i) xr[i] = m[i] + a[i];
      }
    });
    if (hook) hook(layer_tag(l), T, C, x.get());
  }

  if (hook) {
    layer_norm(T, C, x.get(), C, weights_->final_ln_w.data(), weights_->final_ln_b.data(), eps,
               tmp.get(), C);
    hook("final_layer_norm", T, C, tmp.get());
  }

  // 4. logits of the requested rows, kLogitChunk rows per task.
  const int n_req = static_cast<int>(logit_rows.size());
  const int n_logit_chunks = (n_req + kLogitChunk - 1) / kLogitChunk;
  if (n_req > 0) {
    parallel_tasks(n_logit_chunks, [&](int c) {
      const int k0 = c * kLogitChunk, n = std::min(kLogitChunk, n_req - k0);
      auto buf = pool_->take(static_cast<std::size_t>(n) * C + static_cast<std::size_t>(n) * V);
      float* fin = buf.data();
      float* logits = buf.data() + static_cast<std::size_t>(n) * C;
      for (int i = 0; i < n; ++i) {
        const int row = logit_rows[static_cast<std::size_t>(k0 + i)];
        layer_norm(1, C, x.get() + static_cast<std::size_t>(row) * C, C,
                   weights_->final_ln_w.data(), weights_->final_ln_b.data(), eps,
                   fin + static_cast<std::size_t>(i) * C, C);
      }
      linear(n, fin, C, weights_->embed_out, bf16_ ? &bf16_->embed_out : nullptr, nullptr, logits, V);
      for (int i = 0; i < n; ++i)
        sink(logit_rows[static_cast<std::size_t>(k0 + i)],
             std::span<const float>(logits + static_cast<std::size_t>(i) * V,
                                    static_cast<std::size_t>(V)));
    });
  }
  cache.append(tokens);
}

void GptNeox::decode(std::span<const Token> tokens, std::span<KvCache* const> caches,
                     const LogitSink& sink) const {
  if (tokens.size() != caches.size())
    throw std::invalid_argument("GptNeox::decode: tokens and caches differ in length");
  const int B = static_cast<int>(tokens.size());
  if (B == 0) return;
  for (int b = 0; b < B; ++b) {
    if (caches[static_cast<std::size_t>(b)] == nullptr)
      throw std::invalid_argument("GptNeox::decode: null cache");
    check_cache(*caches[static_cast<std::size_t>(b)], 1);
    check_token(tokens[static_cast<std::size_t>(b)]);
  }
  {
    std::vector<const KvCache*> sorted(caches.begin(), caches.end());
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      throw std::invalid_argument("GptNeox::decode: the same cache appears twice");
  }

  const NeoxConfig& cf = config_;
  const int C = cf.hidden_size, C3 = 3 * C, H = cf.num_attention_heads, D = cf.head_dim();
  const int I = cf.intermediate_size, V = cf.vocab_size;
  const float eps = static_cast<float>(cf.layer_norm_eps);
  const auto BC = static_cast<std::size_t>(B) * C;
  Buffer x = make_buffer(BC), ln = make_buffer(BC), att = make_buffer(BC), a = make_buffer(BC);
  Buffer qkv = make_buffer(BC * 3), h4 = make_buffer(static_cast<std::size_t>(B) * I);

  for (int b = 0; b < B; ++b)
    weights_->embed_in.row(tokens[static_cast<std::size_t>(b)], x.get() + static_cast<std::size_t>(b) * C);

  for (int l = 0; l < cf.num_hidden_layers; ++l) {
    const NeoxLayerWeights& lw = weights_->layers[static_cast<std::size_t>(l)];
    const Bf16LayerWeights* bl = bf16_ ? &bf16_->layers[static_cast<std::size_t>(l)] : nullptr;
    auto b16 = [bl](Bf16Weight Bf16LayerWeights::*f) { return bl ? &(bl->*f) : nullptr; };
    layer_norm(B, C, x.get(), C, lw.ln1_w.data(), lw.ln1_b.data(), eps, ln.get(), C);
    linear(B, ln.get(), C, lw.qkv, b16(&Bf16LayerWeights::qkv), lw.qkv_b.data(), qkv.get(), C3);
    for (int b = 0; b < B; ++b) {
      KvCache& cache = *caches[static_cast<std::size_t>(b)];
      const int pos = cache.length(), cap = cache.capacity();
      float* row = qkv.get() + static_cast<std::size_t>(b) * C3;
      for (int h = 0; h < H; ++h) {
        float* qh = row + h * D;
        float* kh = row + C + h * D;
        rotary_.apply(qh, pos);
        rotary_.apply(kh, pos);
        const std::size_t at = (static_cast<std::size_t>(h) * cap + pos) * D;
        std::memcpy(cache.k(l) + at, kh, sizeof(float) * static_cast<std::size_t>(D));
        std::memcpy(cache.v(l) + at, row + 2 * C + h * D, sizeof(float) * static_cast<std::size_t>(D));
      }
    }
    parallel_tasks(B * H, [&](int task) {
      const int b = task / H, h = task % H;
      KvCache& cache = *caches[static_cast<std::size_t>(b)];
      const int pos = cache.length(), cap = cache.capacity();
      std::vector<float> scratch(static_cast<std::size_t>(pos) + 1);
      attention_one(pos, D, attn_scale_, qkv.get() + static_cast<std::size_t>(b) * C3 + h * D,
                    cache.k(l) + static_cast<std::size_t>(h) * cap * D,
                    cache.v(l) + static_cast<std::size_t>(h) * cap * D,
                    att.get() + static_cast<std::size_t>(b) * C + h * D, scratch.data());
    });
    linear(B, att.get(), C, lw.dense, b16(&Bf16LayerWeights::dense), lw.dense_b.data(), a.get(), C);
    if (cf.use_parallel_residual) {
      layer_norm(B, C, x.get(), C, lw.ln2_w.data(), lw.ln2_b.data(), eps, ln.get(), C);
    } else {
      for (std::size_t i = 0; i < BC; ++i) a[i] = a[i] + x[i];
      layer_norm(B, C, a.get(), C, lw.ln2_w.data(), lw.ln2_b.data(), eps, ln.get(), C);
    }
    linear(B, ln.get(), C, lw.fc, b16(&Bf16LayerWeights::fc), lw.fc_b.data(), h4.get(), I);
    gelu_inplace(h4.get(), static_cast<std::size_t>(B) * I);
    linear(B, h4.get(), I, lw.proj, b16(&Bf16LayerWeights::proj), lw.proj_b.data(), att.get(), C);
    if (cf.use_parallel_residual) {
      for (std::size_t i = 0; i < BC; ++i) x[i] = (att[i] + a[i]) + x[i];
    } else {
      for (std::size_t i = 0; i < BC; ++i) x[i] = att[i] + a[i];
    }
  }

  layer_norm(B, C, x.get(), C, weights_->final_ln_w.data(), weights_->final_ln_b.data(), eps,
             ln.get(), C);
  for (int b0 = 0; b0 < B; b0 += kLogitChunk) {
    const int n = std::min(kLogitChunk, B - b0);
    auto buf = pool_->take(static_cast<std::size_t>(n) * V);
    linear(n, ln.get() + static_cast<std::size_t>(b0) * C, C, weights_->embed_out,
           bf16_ ? &bf16_->embed_out : nullptr, nullptr,
                  buf.data(), V);
    parallel_tasks(n, [&](int i) {
      sink(b0 + i, std::span<const float>(buf.data() + static_cast<std::size_t>(i) * V,
                                          static_cast<std::size_t>(V)));
    });
  }
  for (int b = 0; b < B; ++b)
    caches[static_cast<std::size_t>(b)]->append(tokens.subspan(static_cast<std::size_t>(b), 1));
}

std::unique_ptr<GptNeox> load_gpt_neox(const std::filesystem::path& checkpoint_dir,
                                       const Workload& work) {
  NeoxConfig config = read_neox_config(checkpoint_dir / "config.json");
  check_memory_for_checkpoint(checkpoint_dir, config, work);
  const TensorStore store = TensorStore::open(checkpoint_dir);
  NeoxWeights weights = load_neox_weights(store, config);
  return std::make_unique<GptNeox>(std::move(config), std::move(weights));
}

std::string GptNeox::backend() const {
  if (bf16_)
    return std::string("cpu bf16 compute (") + bf16_isa_name(bf16_isa()) +
           "), fp32 layer norm/attention/residual (" + gemm_isa_name(gemm_isa()) + ")";
  return std::string("cpu fp32, packed GEMM (") + gemm_isa_name(gemm_isa()) + ")";
}

std::unique_ptr<GptNeox> GptNeox::with_compute(Compute c) const {
  std::shared_ptr<const Bf16NeoxWeights> b;
  if (c == Compute::kBf16)
    b = bf16_ ? bf16_ : std::make_shared<const Bf16NeoxWeights>(make_bf16_weights(*weights_));
  return std::unique_ptr<GptNeox>(new GptNeox(config_, weights_, std::move(b)));
}

const char* compute_name(Compute c) { return c == Compute::kBf16 ? "bf16" : "fp32"; }

bool parse_compute(const std::string& name, Compute* out) {
  if (name == "fp32") *out = Compute::kFp32;
  else if (name == "bf16") *out = Compute::kBf16;
  else return false;
  return true;
}

}  // namespace pythia::model

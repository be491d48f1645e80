// GptNeox: the GPT-NeoX (Pythia) forward pass in fp32 on CPU (weights kept in the checkpoint's
// fp16 / bf16 and widened exactly inside the products: neox_weights.h), reproducing Hugging Face
// transformers 4.40.2 GPTNeoXForCausalLM (modeling_gpt_neox.py, eager attention) to ~1e-5:
//   x = embed_in[tokens]
//   per layer:  a = attention(ln1(x))                 (fused QKV, RoPE on the first R dims of q,k,
//                                                      causal softmax(q k^T / sqrt(D)) v, dense)
//     parallel residual (Pythia):  x = (mlp(ln2(x)) + a) + x
//     sequential residual:         a = a + x;  x = mlp(ln2(a)) + a
//   logits = embed_out · final_layer_norm(x)     (untied), computed only for requested rows.
// mlp(h) = proj(gelu(fc(h))) with exact-erf GELU.
//
// Thread safety: const after construction; forward()/decode() may run concurrently on distinct
// caches. All mutable state lives in the KvCache and in per-call scratch.
//
// Determinism (causal_lm.h): every product (weights, and q·k / p·v in forward's attention) is a
// fixed-order fma chain (gemm.h matmul_packed / matmul_panels), every other op is per row, so
// values do not depend on the thread count, on how rows are chunked into tasks, or on which
// sequences share a decode() call. decode() attends one query at a time with attention_one
// (another fixed order), so forward() and decode() of the same token agree to ~1e-6, not bitwise.
// Row chunks (kRowChunk), attention chunks (kAttnChunk) and logit chunks (kLogitChunk) only bound
// memory and form TBB tasks.
//
// Compute (`--compute`): kFp32 (default) is the above, every value exact fp32 arithmetic on the
// (exactly widened) stored weights. kBf16 (with_compute): the five large products of each
// forward (QKV, attention dense, MLP fc and proj, embed_out) run in bf16 x bf16 -> fp32
// (gemm_bf16.h: weights rounded to bf16 once, activations rounded per call); embeddings,
// LayerNorm, RoPE, q·k and p·v attention products, softmax, GELU, biases and the residual stream
// stay fp32. Deterministic per bf16 ISA (same bits on AVX512_BF16 and the portable path) and
// position-invariant like fp32, but NOT equal to fp32: logits differ (measured in
// tests/model/bf16_compute_test.cpp and model/README.md).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/causal_lm.h"
#include "model/gemm.h"
#include "model/gemm_bf16_weights.h"
#include "model/kernels.h"
#include "model/memory_check.h"
#include "model/neox_config.h"
#include "model/neox_weights.h"

namespace pythia::model {

// Debug hook: receives named intermediates of a forward() call, [rows, cols] row-major:
// "embed_in", "layer00", "layer01", ... (residual stream after each layer), "final_layer_norm"
// (for every row of the call). Names match the HF hooks of the goldens' hidden_len0007_*.f32.
using ActivationHook =
    std::function<void(std::string_view name, int rows, int cols, const float* data)>;

// Arithmetic of the large products (see header comment).
enum class Compute { kFp32, kBf16 };
// "fp32" | "bf16"; parse returns false on anything else.
const char* compute_name(Compute c);
bool parse_compute(const std::string& name, Compute* out);

class GptNeox final : public CausalLm {
 public:
  // Fixed chunk sizes (part of the numerical definition of forward(); see header comment).
  static constexpr int kRowChunk = 128;
  static constexpr int kAttnChunk = 64;
  static constexpr int kLogitChunk = 64;

  // REQUIRES: weights have the shapes of `config` (load_neox_weights / random_neox_weights);
  // std::invalid_argument otherwise.
  GptNeox(NeoxConfig config, NeoxWeights weights);
  ~GptNeox() override;
  GptNeox(const GptNeox&) = delete;
  GptNeox& operator=(const GptNeox&) = delete;

  // A model with random weights of the shapes of `config` (benchmarks, tests), stored as
  // `storage` and rounded to `precision` (random_neox_weights): random(c, s, kF32, kF16) and
  // random(c, s, kF16) are the same model in fp32 and in fp16 panels (bit-identical logits).
  static std::unique_ptr<GptNeox> random(const NeoxConfig& config, std::uint64_t seed,
                                         PanelDType storage = PanelDType::kF32);
  static std::unique_ptr<GptNeox> random(const NeoxConfig& config, std::uint64_t seed,
                                         PanelDType storage, PanelDType precision);

  const NeoxConfig& config() const { return config_; }
  const NeoxWeights& weights() const { return *weights_; }
  Compute compute() const { return bf16_ ? Compute::kBf16 : Compute::kFp32; }
  // The same model computing with `c`, SHARING this model's weights (they live as long as either
  // model); kBf16 adds bf16 copies of the matrices (gemm_bf16_weights.h, ~2 bytes per parameter;
  // made once and shared by later calls on the result). kFp32 on a bf16 model gives the exact model.
  std::unique_ptr<GptNeox> with_compute(Compute c) const;

  int vocab_size() const override { return config_.vocab_size; }
  int max_positions() const override { return config_.max_position_embeddings; }
  KvCache make_cache(int capacity) const override;
  // Every product has a fixed per-element order (tests/model/split_invariance_test.cpp).
  bool forward_is_split_invariant() const override { return true; }
  // "cpu fp32, packed GEMM (<isa>)": the GEMM ISA in use (model/gemm.h gemm_isa()); with bf16
  // compute "cpu bf16 compute (<bf16 isa>), fp32 layer norm/attention/residual (<isa>)".
  std::string backend() const override;

  // See CausalLm::forward. Throws std::invalid_argument on a token id outside [0, vocab_size),
  // a cache of another shape, too little capacity, or bad logit_rows.
  void forward(std::span<const Token> tokens, KvCache& cache, std::span<const int> logit_rows,
               const LogitSink& sink) const override;
  // Same, also reporting intermediates to `hook` (may be empty).
  void forward_with_hook(std::span<const Token> tokens, KvCache& cache,
                         std::span<const int> logit_rows, const LogitSink& sink,
                         const ActivationHook& hook) const;

  // See CausalLm::decode. Throws std::invalid_argument on bad ids, a full cache, or the same
  // cache twice.
  void decode(std::span<const Token> tokens, std::span<KvCache* const> caches,
              const LogitSink& sink) const override;

 private:
  class ScratchPool;
  GptNeox(NeoxConfig config, std::shared_ptr<const NeoxWeights> weights,
          std::shared_ptr<const Bf16NeoxWeights> bf16);
  void check_cache(const KvCache& cache, int n_new) const;
  void check_token(Token t) const;

  NeoxConfig config_;
  std::shared_ptr<const NeoxWeights> weights_;  // packed in the checkpoint's dtype
  std::shared_ptr<const Bf16NeoxWeights> bf16_;  // null: fp32 compute
  RotaryTable rotary_;
  float attn_scale_;
  std::unique_ptr<ScratchPool> pool_;  // reusable scratch buffers (thread-safe), not model state
};

// Loads config.json + the weights (any layout TensorStore reads) of a checkpoint folder, the
// matrices kept in their stored dtype (load_neox_weights). Before reading any weight, checks that
// the memory the model will need fits what the machine has (model/memory_check.h): a model too
// large for the machine is refused with a DataError naming the folder and both sizes, instead of
// being killed for lack of memory half-way through loading; `work` declares the KV caches the
// caller will hold at once, which count too.
// Throws DataError naming the file and the problem.
std::unique_ptr<GptNeox> load_gpt_neox(const std::filesystem::path& checkpoint_dir,
                                       const Workload& work = {});

}  // namespace pythia::model

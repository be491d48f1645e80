// NeoxWeights: the parameters of a GPTNeoXForCausalLM, and the ONE table that maps Hugging Face
// tensor names to them (neox_weights.cpp, kModelTable / kLayerTable).
//
// Storage: the weight matrices stay in the checkpoint's dtype (fp16 or bf16; an fp32 checkpoint
// stays fp32), packed once for matmul_packed (gemm.h PackedWeight), and are widened to fp32 inside
// the GEMM kernels; embed_in stays a row table in its dtype whose rows are widened on lookup.
// Widening fp16/bf16 -> fp32 is exact, so every product and every value of the forward pass is
// the same as with the weights converted to fp32 up front, at half the memory for a half
// checkpoint. LayerNorm parameters and biases (a few per mille of the parameters) are fp32.
//
// Layouts (row-major; shape legend in model/README.md):
//   embed_in, embed_out      [V, C]       (untied: GPT-NeoX has tie_word_embeddings = false)
//   ln*_w, ln*_b             [C]
//   qkv                      [3C, C]  REGROUPED: HF stores attention.query_key_value rows as
//                                     [H, 3, D] (head-major: q_h, k_h, v_h for each head h); we
//                                     keep [3, H, D] (all q rows, then all k, then all v) so that
//                                     Q, K and V of head h are columns h*D.. of three C-wide blocks.
//   qkv_b                    [3C]     regrouped the same way
//   dense [C, C], fc [I, C], proj [C, I] (nn.Linear: [out, in]); biases [out]
// Immutable after construction; safe to share between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/gemm.h"
#include "model/neox_config.h"
#include "model/tensor_store.h"

namespace pythia::model {

// A [rows, cols] matrix kept row-major in its stored element type; rows are read widened to fp32
// (exact). The token embedding table.
class RowTable {
 public:
  RowTable() = default;
  // Copies rows x cols elements of `dtype` (kF16 / kBF16: 16-bit patterns) from `src` (row-major,
  // any alignment). `on_rows_read` as in PackedWeight (called after each chunk of rows).
  RowTable(PanelDType dtype, const void* src, int rows, int cols,
           const std::function<void(int)>& on_rows_read = {});
  PanelDType dtype() const { return dtype_; }
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  std::size_t bytes() const {
    return static_cast<std::size_t>(rows_) * static_cast<std::size_t>(cols_) *
           panel_dtype_size(dtype_);
  }
  // out[0 .. cols) = row r widened to fp32. REQUIRES 0 <= r < rows().
  void row(int r, float* out) const;

 private:
  PanelDType dtype_ = PanelDType::kF32;
  int rows_ = 0, cols_ = 0;
  std::unique_ptr<std::byte[]> data_;
};

struct NeoxLayerWeights {
  std::vector<float> ln1_w, ln1_b;  // input_layernorm
  std::vector<float> ln2_w, ln2_b;  // post_attention_layernorm
  PackedWeight qkv;                 // attention.query_key_value.weight (regrouped, see above)
  std::vector<float> qkv_b;         // its bias (regrouped)
  PackedWeight dense;               // attention.dense
  std::vector<float> dense_b;
  PackedWeight fc;                  // mlp.dense_h_to_4h
  std::vector<float> fc_b;
  PackedWeight proj;                // mlp.dense_4h_to_h
  std::vector<float> proj_b;
};

struct NeoxWeights {
  RowTable embed_in;  // gpt_neox.embed_in.weight
  std::vector<NeoxLayerWeights> layers;
  std::vector<float> final_ln_w, final_ln_b;  // gpt_neox.final_layer_norm
  PackedWeight embed_out;                      // embed_out.weight

  // Bytes held by all parameters (packed matrices, embedding table, fp32 vectors).
  std::size_t bytes() const;
  // Element types of the matrices, e.g. "F16" or "F16, F32".
  std::string matrix_dtypes() const;
};

// Reads every expected tensor with its expected shape (DataError naming file, tensor and shapes
// on a missing tensor, a wrong shape or a dtype other than F16/BF16/F32). Each matrix is packed
// straight from the (memory-mapped) checkpoint in its own dtype, and the pages of the mapping it
// came from are released as packing goes (release_tensor_pages), so neither an fp32 copy of the
// model nor the whole mapped file is ever resident: peak memory is the packed weights plus about
// one chunk of a tensor. Tensors not in the table (attention.bias, attention.masked_bias,
// attention.rotary_emb.inv_freq of old .bin files) are ignored: transformers 4.40.2 recomputes
// inv_freq and builds the causal mask itself.
NeoxWeights load_neox_weights(const TensorStore& store, const NeoxConfig& config);

// Random weights of the right shapes (for benchmarks and tests). Deterministic in `seed`.
// Matrices ~U(-0.035, 0.035) (std 0.02) rounded to `precision` (kF32: not rounded) and stored as
// `storage`; LayerNorm weight 1, biases 0. The first form rounds to the storage type. So
// random_neox_weights(c, s, kF32, kF16) holds exactly the values of random_neox_weights(c, s, kF16)
// in fp32 panels: the same model at twice the memory (tests, bench_forward's comparison).
// std::invalid_argument unless precision is kF32, equals storage, or storage is kF32.
NeoxWeights random_neox_weights(const NeoxConfig& config, std::uint64_t seed,
                                PanelDType storage = PanelDType::kF32);
NeoxWeights random_neox_weights(const NeoxConfig& config, std::uint64_t seed, PanelDType storage,
                                PanelDType precision);

// The list of HF tensor names the model reads, in table order (for tests and error messages).
std::vector<std::string> neox_tensor_names(const NeoxConfig& config);

}  // namespace pythia::model

// NeoxWeights: the fp32 parameters of a GPTNeoXForCausalLM, and the ONE table that maps Hugging
// Face tensor names to them (neox_weights.cpp, kTensorTable / kLayerTable).
//
// Layouts (row-major; shape legend in model/README.md):
//   embed_in, embed_out      [V, C]       (untied: GPT-NeoX has tie_word_embeddings = false)
//   ln*_w, ln*_b             [C]
//   qkv_w                    [3C, C]  REGROUPED: HF stores attention.query_key_value rows as
//                                     [H, 3, D] (head-major: q_h, k_h, v_h for each head h); we
//                                     keep [3, H, D] (all q rows, then all k, then all v) so that
//                                     Q, K and V of head h are columns h*D.. of three C-wide blocks.
//   qkv_b                    [3C]     regrouped the same way
//   dense_w [C, C], fc_w [I, C], proj_w [C, I] (nn.Linear: [out, in]); biases [out]
// Immutable after construction; safe to share between threads.
#pragma once

#include <cstdint>
#include <vector>

#include "model/neox_config.h"
#include "model/tensor_store.h"

namespace pythia::model {

struct NeoxLayerWeights {
  std::vector<float> ln1_w, ln1_b;    // input_layernorm
  std::vector<float> ln2_w, ln2_b;    // post_attention_layernorm
  std::vector<float> qkv_w, qkv_b;    // attention.query_key_value (regrouped, see above)
  std::vector<float> dense_w, dense_b;  // attention.dense
  std::vector<float> fc_w, fc_b;      // mlp.dense_h_to_4h
  std::vector<float> proj_w, proj_b;  // mlp.dense_4h_to_h
};

struct NeoxWeights {
  std::vector<float> embed_in;        // gpt_neox.embed_in.weight
  std::vector<NeoxLayerWeights> layers;
  std::vector<float> final_ln_w, final_ln_b;  // gpt_neox.final_layer_norm
  std::vector<float> embed_out;       // embed_out.weight
};

// Reads every expected tensor with its expected shape (TensorStore::read_f32 throws DataError
// naming file, tensor and shapes on a missing tensor or a wrong shape). Tensors not in the table
// (attention.bias, attention.masked_bias, attention.rotary_emb.inv_freq of old .bin files) are
// ignored: transformers 4.40.2 recomputes inv_freq and builds the causal mask itself.
NeoxWeights load_neox_weights(const TensorStore& store, const NeoxConfig& config);

// Random weights of the right shapes (for benchmarks: speed does not depend on the values).
// Deterministic in `seed`. Matrices ~U(-0.035, 0.035) (std 0.02), LayerNorm weight 1, biases 0.
NeoxWeights random_neox_weights(const NeoxConfig& config, std::uint64_t seed);

// The list of HF tensor names the model reads, in table order (for tests and error messages).
std::vector<std::string> neox_tensor_names(const NeoxConfig& config);

}  // namespace pythia::model

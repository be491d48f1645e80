// NeoxConfig: the hyper-parameters of a GPTNeoXForCausalLM checkpoint, read from its config.json.
//
// Every key a Pythia config.json has is understood; an unsupported value (another architecture,
// hidden_act other than "gelu", tied embeddings, ...) is refused with a DataError that names the
// file, the key and the value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace pythia::model {

struct NeoxConfig {
  int vocab_size = 50304;              // rows of embed_in / embed_out (padded vocabulary)
  int hidden_size = 512;               // C
  int num_hidden_layers = 6;           // n_layer
  int num_attention_heads = 8;         // H
  int intermediate_size = 2048;        // MLP width
  double rotary_pct = 0.25;            // fraction of head_dim that is rotated
  double rotary_emb_base = 10000.0;    // RoPE base (config key rotary_emb_base or rope_theta)
  int max_position_embeddings = 2048;  // longest sequence the model accepts
  double layer_norm_eps = 1e-5;
  bool use_parallel_residual = true;   // x + attn(ln1(x)) + mlp(ln2(x)) (Pythia) vs sequential
  std::string torch_dtype = "float16"; // storage dtype recorded by the checkpoint (informational)
  int bos_token_id = 0;
  int eos_token_id = 0;

  int head_dim() const { return hidden_size / num_attention_heads; }  // D
  // Rotated dims per head: int(head_dim * rotary_pct), as transformers computes rotary_ndims.
  int rotary_dim() const { return static_cast<int>(head_dim() * rotary_pct); }
};

// Parameters of the GPTNeoXForCausalLM these hyper-parameters describe, as transformers'
// model.num_parameters() (and so lm-eval's model_num_parameters) counts them: embed_in and the
// untied embed_out (V x C each), per layer two LayerNorms (2 x 2C), query_key_value (3C x C + 3C),
// dense (C x C + C), dense_h_to_4h (I x C + I), dense_4h_to_h (C x I + C), the final LayerNorm
// (2C); buffers (attention.bias, rotary inv_freq) are not parameters. pythia-70m: 70,426,624.
std::int64_t parameter_count(const NeoxConfig& c);

// Parses and validates `path` (a config.json). Throws DataError naming the file and key.
NeoxConfig read_neox_config(const std::filesystem::path& path);

}  // namespace pythia::model

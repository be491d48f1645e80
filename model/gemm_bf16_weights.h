// The bf16 copies of a model's large matrices for `--compute bf16` (gemm_bf16.h Bf16Weight):
// per layer QKV, dense, MLP fc and proj, and embed_out. Everything else of the model (embed_in,
// LayerNorm parameters, biases) stays where it is (NeoxWeights) and in fp32 arithmetic.
// Memory: 2 bytes per matrix parameter, on top of the NeoxWeights it was made from (fp16
// checkpoint: 2 + 2 = ~4 bytes/parameter while both are held).
#pragma once

#include <cstddef>
#include <vector>

#include "model/gemm_bf16.h"
#include "model/neox_weights.h"

namespace pythia::model {

struct Bf16LayerWeights {
  Bf16Weight qkv, dense, fc, proj;
};

struct Bf16NeoxWeights {
  std::vector<Bf16LayerWeights> layers;
  Bf16Weight embed_out;
  std::size_t bytes() const;
};

// bf16 panels of every matrix of `w` (bf16 matrices copied, fp16/fp32 ones rounded to nearest even).
Bf16NeoxWeights make_bf16_weights(const NeoxWeights& w);

}  // namespace pythia::model

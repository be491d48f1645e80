#include "model/gemm_bf16_weights.h"

namespace pythia::model {

std::size_t Bf16NeoxWeights::bytes() const {
  std::size_t b = embed_out.bytes();
  for (const Bf16LayerWeights& l : layers) b += l.qkv.bytes() + l.dense.bytes() + l.fc.bytes() + l.proj.bytes();
  return b;
}

Bf16NeoxWeights make_bf16_weights(const NeoxWeights& w) {
  Bf16NeoxWeights out;
  out.layers.reserve(w.layers.size());
  for (const NeoxLayerWeights& l : w.layers)
    out.layers.push_back({Bf16Weight(l.qkv), Bf16Weight(l.dense), Bf16Weight(l.fc), Bf16Weight(l.proj)});
  out.embed_out = Bf16Weight(w.embed_out);
  return out;
}

}  // namespace pythia::model

// Will a checkpoint fit in memory? Checked by load_gpt_neox before any weight is read, so a model
// too large for the machine (pythia-12b in fp16 is 23.8 GB; a 24 GiB machine has less than that
// to spare) ends with a DataError that names the folder and both sizes, not with the kernel's OOM
// killer half-way through a minutes-long load.
//
// Estimate: the weights stay in their stored dtype (neox_weights.h), so the resident size of a
// loaded model is about the size of its weight files (packed panels pad each matrix to a multiple
// of 64 rows; LayerNorm vectors and biases are widened to fp32: both well under 1 %), plus the
// working memory of scoring: activations and logit chunks budgeted as 5 % + 512 MiB, plus the KV
// caches the command will hold at once (Workload, declared by the command from its plan: e.g.
// `memorize` holds max(2, threads) blocks of --batch-size rows of P+L positions; eval and score
// one sequence of up to max_position_embeddings positions per thread). A KV cache position costs
// 2 (k, v) x layers x hidden x 4 bytes: 1 MiB on pythia-6.9b, so 64 rows x 64 tokens x 2 blocks
// is 8 GiB, more than half the model's 13.7 GB of weights.
// Available: MemAvailable of /proc/meminfo (free memory plus reclaimable page cache, which
// includes the checkpoint's own cached pages), lowered by any cgroup memory limit on the way from
// this process's cgroup to the root (v2 memory.max, v1 memory.limit_in_bytes, minus the usage
// that is not reclaimable file cache).
// `--compute bf16` (Workload::bf16_copies) adds bf16 copies of the five large matrices of each
// layer and embed_out (gemm_bf16_weights.h), ~2 bytes per matrix parameter on top of the weights:
// an fp16 pythia-6.9b then needs 13.7 + 13.5 GB and is refused on a 24 GiB machine before loading.
// PYTHIA_SKIP_MEMORY_CHECK=1 turns the check off (e.g. when swap or overcommit is meant to be
// used); if nothing can be read (no /proc), the check passes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "model/neox_config.h"

namespace pythia::model {

// The memory a run will use besides the weights, declared by the command that loads the model.
struct Workload {
  std::int64_t sequences = 0;  // KV caches allocated at once (all sequences in flight)
  std::int64_t positions = 0;  // capacity of each (at most max_position_embeddings); 0 = that maximum
  std::string what;            // how they arise and what lowers them, for the error, e.g.
                               // "memorize: 2 blocks x 64 rows ...; fewer --threads or a smaller --batch-size lower them"
  bool bf16_copies = false;    // --compute bf16: bf16 copies of the matrices are held as well
};

// Bytes of the KV caches of `w` for a model of config c: sequences x min(positions,
// max_position_embeddings) x 2 (k, v) x layers x hidden x 4.
std::uint64_t kv_cache_bytes(const NeoxConfig& c, const Workload& w);

// Bytes of the bf16 copies `--compute bf16` makes of a model of config c (Bf16NeoxWeights::bytes
// of make_bf16_weights, computed from the shapes alone): per layer QKV (3C x C), dense (C x C),
// fc (I x C), proj (C x I), and embed_out (V x C), each with its rows padded to 64 and its
// columns to an even count, 2 bytes an element.
std::uint64_t bf16_copy_bytes(const NeoxConfig& c);

struct MemoryLimit {
  std::uint64_t available = 0;  // bytes this process may still use
  std::string source;           // what bounded it, e.g. "MemAvailable in /proc/meminfo"
};

// What this process may still allocate: the smaller of MemAvailable and every cgroup limit's
// headroom. nullopt if neither can be read.
std::optional<MemoryLimit> available_memory();

// Bytes of the weight files of the checkpoint folder, for the layout TensorStore::open would pick
// (model.safetensors, the shards named by model.safetensors.index.json, pytorch_model.bin, the
// shards of pytorch_model.bin.index.json; missing files count 0: open() reports them). 0 if the
// folder has none of them.
std::uint64_t checkpoint_weight_bytes(const std::filesystem::path& dir);

// Resident bytes to budget for a model whose weight files hold `weight_bytes`:
// weight_bytes + 5 % + 512 MiB.
std::uint64_t estimate_resident_bytes(std::uint64_t weight_bytes);

// Throws DataError naming `dir` when estimate_resident_bytes(weight_bytes) + kv_bytes >
// limit.available: "<dir>: this model needs about 25.5 GB of memory to load and run (23.8 GB of
// weights ...) but only 22.0 GB is available (MemAvailable in /proc/meminfo); ...". When kv_bytes
// > 0 the message names them and `kv_what` (the command's Workload::what, which says what lowers
// them); likewise `bf16_bytes`
// (the bf16 copies of --compute bf16) are added and named.
void check_memory_fits(const std::filesystem::path& dir, std::uint64_t weight_bytes,
                       const MemoryLimit& limit, std::uint64_t kv_bytes = 0,
                       const std::string& kv_what = "", std::uint64_t bf16_bytes = 0);

// checkpoint_weight_bytes + kv_cache_bytes(config, work) (+ bf16_copy_bytes(config) when
// work.bf16_copies) + available_memory + check_memory_fits,
// unless PYTHIA_SKIP_MEMORY_CHECK=1 or nothing could be read.
void check_memory_for_checkpoint(const std::filesystem::path& dir, const NeoxConfig& config,
                                 const Workload& work = {});

}  // namespace pythia::model

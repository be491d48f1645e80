// See checkpoint_identity.h.
#include "harness/checkpoint_identity.h"

#include <chrono>
#include <cstdio>

#include "model/neox_config.h"
#include "model/tensor_store.h"

namespace pythia::harness {

namespace fs = std::filesystem;

results::ModelIdentity identify_checkpoint(const model::ResolvedModel& resolved,
                                           data::FileDigestCache& cache) {
  results::ModelIdentity id;
  id.hf_commit = resolved.commit;
  id.num_parameters = model::parameter_count(model::read_neox_config(resolved.dir / "config.json"));
  const std::uint64_t hashed_before = cache.bytes_hashed();
  const auto t0 = std::chrono::steady_clock::now();
  for (const fs::path& file : model::checkpoint_weight_files(resolved.dir)) {
    results::WeightFileDigest d;
    d.name = file.filename().string();
    d.bytes = fs::file_size(file);
    d.sha256 = cache.sha256(file);
    id.weight_files.push_back(std::move(d));
  }
  const std::uint64_t hashed = cache.bytes_hashed() - hashed_before;
  if (hashed > (256ull << 20)) {
    std::fprintf(stderr, "identity: checksummed %.2f GiB of weights of %s in %.1f s (cached in %s)\n",
                 static_cast<double>(hashed) / (1ull << 30), resolved.dir.c_str(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                 cache.cache_file().empty() ? "memory only" : cache.cache_file().c_str());
  }
  id.weights_sha256 = results::combined_weights_sha256(id.weight_files);
  return id;
}

fs::path digest_cache_file(const std::string& flag) {
  if (flag == "none") return {};
  if (flag.empty()) return data::default_digest_cache_file();
  return flag;
}

}  // namespace pythia::harness

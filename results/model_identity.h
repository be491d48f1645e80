// Checkpoint identity: which weights a results file was computed from. Recorded in every
// results.json (both layouts) and memorization.json under the key "model_identity", so that hub
// branches serving the wrong weights (EleutherAI/pythia issues #195, #205, #206: step branches
// holding end-of-training weights) are noticed.
//
//   "model_identity": {
//     "weights_sha256": "<64 hex>",   combined digest (below)
//     "weight_files": [{"name": "model.safetensors", "bytes": N, "sha256": "<64 hex>"}, ...],
//     "hf_commit": "<40 hex>" | null, the HF commit of the revision (snapshots/<sha>) when the
//                                     model came from the local HF cache
//     "num_parameters": N,            as transformers' num_parameters() (model/neox_config.h)
//     "identical_weights_as": [...]   other revisions of the same sweep whose weights_sha256 is
//                                     equal (set by the sweep; [] when none or not a sweep)
//   }
//
// Combined digest, documented so anyone can recompute it with coreutils: the weight files are the
// ones the loader reads (model/tensor_store.h checkpoint_weight_files: the single weights file, or
// the shards an index names; not the index, config or tokenizer), sorted by file name; each
// contributes the line "<sha256 of the file>  <file name>\n" (the output of `sha256sum` run in the
// checkpoint folder on those names, sorted); weights_sha256 is the SHA-256 of the concatenated
// lines. In a shell: `cd CKPT && sha256sum model.safetensors | sha256sum`.
//
// lm-eval v0.4 fields are filled as lm-eval fills them: config.model_sha = the HF commit ("" when
// not from the hub cache), config.model_num_parameters = num_parameters.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pythia::results {

struct WeightFileDigest {
  std::string name;  // file name inside the checkpoint folder
  std::uint64_t bytes = 0;
  std::string sha256;
};

struct ModelIdentity {
  std::string weights_sha256;
  std::vector<WeightFileDigest> weight_files;  // sorted by name
  std::string hf_commit;                       // "" = not from the HF cache (null in JSON)
  std::int64_t num_parameters = 0;
  std::vector<std::string> identical_weights_as;  // revisions; filled by the sweep
};

inline constexpr const char* kModelIdentityKey = "model_identity";

// The combined digest of `files` (sorted by name first; see above).
std::string combined_weights_sha256(std::vector<WeightFileDigest> files);

nlohmann::ordered_json to_json(const ModelIdentity& id);
// Parses the object written by to_json. ResultsFileError naming `file` on a malformed object.
ModelIdentity parse_model_identity(const nlohmann::json& j, const std::string& file);

// The identity recorded in the results of one checkpoint folder: memorization.json, else
// results.json (key "model_identity"); nullopt when neither holds one (older files). Unreadable
// files count as holding none.
std::optional<ModelIdentity> read_recorded_identity(const std::filesystem::path& checkpoint_dir);

}  // namespace pythia::results

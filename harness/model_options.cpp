#include "harness/model_options.h"

#include <boost/program_options.hpp>

#include "data/error.h"
#include "harness/checkpoint_identity.h"
#include "model/model_resolver.h"

namespace pythia::harness {

namespace po = boost::program_options;

void add_model_options(po::options_description& desc, ModelOptions& o) {
  desc.add_options()
      ("model", po::value<std::string>(&o.model),
       "the model: a checkpoint folder (config.json + model.safetensors or pytorch_model.bin), a "
       "folder of step*/ revision folders, or a Hugging Face repo id (e.g. EleutherAI/pythia-70m) "
       "in the local HF cache (never downloaded)")
      ("revision", po::value<std::string>(&o.revision),
       "revision of --model, e.g. step143000 (default: none for a folder, \"main\" for a repo id)")
      ("threads", po::value<int>(&o.threads)->default_value(0),
       "worker threads (0 = all cores); results do not depend on it")
      ("hash-cache", po::value<std::string>(&o.hash_cache),
       "eval, memorize, sweep: file caching the SHA-256 of weight files by (path, size, mtime), so "
       "the weights' content hash recorded in every results file (model_identity) is computed once "
       "per file "
       "(default: $PYTHIA_HARNESS_CACHE/file-sha256.json, else $XDG_CACHE_HOME/pythia-harness/..., "
       "else ~/.cache/pythia-harness/file-sha256.json; \"none\": no cache file, hash every time)");
}

LoadedModel load_model_from_options(const ModelOptions& o, const model::Workload& work,
                                   bool with_identity) {
  if (o.model.empty()) throw UsageError("--model is required");
  if (o.threads < 0) throw UsageError("--threads must be >= 0");
  const model::ResolvedModel r = model::resolve_model(o.model, o.revision);
  LoadedModel lm;
  lm.name = r.name;
  lm.revision = r.revision;
  lm.dir = r.dir;
  // Load (memory check, then the weights) before hashing: a model that will not fit or whose
  // files are broken is refused at once, not after minutes of checksumming gigabytes.
  lm.model = model::load_gpt_neox(r.dir, work);
  if (with_identity) {
    data::FileDigestCache cache(digest_cache_file(o.hash_cache));
    lm.identity = identify_checkpoint(r, cache);
  }
  return lm;
}

}  // namespace pythia::harness

#include "harness/model_options.h"

#include <boost/program_options.hpp>

#include "data/error.h"
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
       "worker threads (0 = all cores); results do not depend on it");
}

LoadedModel load_model_from_options(const ModelOptions& o, const model::Workload& work) {
  if (o.model.empty()) throw UsageError("--model is required");
  if (o.threads < 0) throw UsageError("--threads must be >= 0");
  const model::ResolvedModel r = model::resolve_model(o.model, o.revision);
  LoadedModel lm;
  lm.name = r.name;
  lm.revision = r.revision;
  lm.dir = r.dir;
  lm.model = model::load_gpt_neox(r.dir, work);
  return lm;
}

}  // namespace pythia::harness

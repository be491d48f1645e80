// The command-line options shared by every command that loads a model (score, generate, eval,
// memorize, sweep): --model, --revision, --threads, --hash-cache, and the one way to load the model they name.
//
//   ModelOptions mo;
//   add_model_options(desc, mo);                 // registers the four flags with their --help
//   ... parse ...
//   ThreadSetup threads(mo.threads);             // harness/threading.h
//   LoadedModel lm = load_model_from_options(mo);
//   lm.model->forward(...);
//
// Errors: UsageError when --model is missing; DataError (naming the file) for a model folder
// that cannot be resolved or loaded.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "model/gpt_neox.h"
#include "results/model_identity.h"

namespace pythia::harness {

struct ModelOptions {
  std::string model;     // --model: checkpoint folder, folder of step*/ revisions, or HF repo id
  std::string revision;  // --revision: e.g. step143000 (see model/model_resolver.h)
  int threads = 0;       // --threads: worker threads; 0 = all cores
  std::string hash_cache;  // --hash-cache: weight-digest cache file, "" default, "none" (checkpoint_identity.h)
};

// Adds --model, --revision and --threads (bound to `o`) to `desc`.
void add_model_options(boost::program_options::options_description& desc, ModelOptions& o);

struct LoadedModel {
  std::string name;                    // display name, e.g. "pythia-tiny", "EleutherAI/pythia-70m"
  std::string revision;                // "" for a plain checkpoint folder
  std::filesystem::path dir;           // the checkpoint folder that was loaded
  std::unique_ptr<model::GptNeox> model;
  results::ModelIdentity identity;     // weights' SHA-256, HF commit, parameter count
};

// Resolves (model/model_resolver.h), loads (model::load_gpt_neox: memory check first) and then
// identifies (harness/checkpoint_identity.h: hashes the weight files unless the digest cache knows
// them) the model of `o`, so a model refused for memory or broken files is not hashed first.
// `with_identity` false (score, generate: nothing recorded) skips the checksumming; identity stays empty.
// `work` declares the KV caches the command will hold at once, for the memory check before loading
// (model/memory_check.h).
LoadedModel load_model_from_options(const ModelOptions& o, const model::Workload& work = {},
                                    bool with_identity = true);

}  // namespace pythia::harness

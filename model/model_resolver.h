// Resolving a --model / --revision pair to a local checkpoint folder. Never uses the network.
//
// `model` is one of:
//  (1) a checkpoint folder (holds config.json), e.g. tests/fixtures/pythia-tiny;
//  (2) a folder of revision sub-folders, each a checkpoint folder, named like Pythia's training
//      checkpoints (step0/, step1000/, ...; e.g. shared/fixtures/mini-pythia); `revision` names one
//      and is required;
//  (3) a Hugging Face repo id ORG/NAME looked up in the local HF cache, in the layout of
//      huggingface_hub 0.23 (file_download.py / constants.py): the cache root is $HF_HUB_CACHE,
//      else $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub,
//      else ~/.cache/huggingface/hub; the repo lives in models--ORG--NAME/, refs/<revision> holds a
//      commit sha and snapshots/<sha>/ the files. `revision` (default "main") is a ref name (main,
//      step3000, ...) or a commit sha naming a snapshot folder directly.
// A path that exists is always taken as a path (so "./org/name" style folders win).
//
// Errors: DataError naming what was looked at; a missing revision lists the revisions that exist.
// Thread safety: pure functions of the file system.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace pythia::model {

struct ResolvedModel {
  std::filesystem::path dir;  // the checkpoint folder (holds config.json and the weights)
  std::string name;           // display name: "pythia-tiny", "mini-pythia", "EleutherAI/pythia-70m"
  std::string revision;       // the revision chosen ("" for a plain checkpoint folder)
  std::string commit;         // (3) only: the HF commit sha of the snapshot (snapshots/<sha>); else ""
};

// Resolves `model` + `revision` (empty = default: none for (1), required for (2), "main" for (3)).
ResolvedModel resolve_model(std::string_view model, std::string_view revision);

// Every revision available locally: the revision sub-folders of (2) or the refs of (3), sorted by
// step number (stepN, numerically), then other names alphabetically. Empty for a plain
// checkpoint folder (1). DataError if `model` cannot be found at all.
std::vector<std::string> list_revisions(std::string_view model);

// The Hugging Face hub cache root chosen by the environment variables above.
std::filesystem::path hf_hub_cache_dir();

}  // namespace pythia::model

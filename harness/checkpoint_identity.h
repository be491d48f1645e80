// The identity of the checkpoint a command loads (results/model_identity.h): the SHA-256 of its
// weight files (through data/file_digest_cache.h, so a sweep hashes each file once, ever), the HF
// commit when it came from the hub cache, and the parameter count from its config.json.
//
//   data::FileDigestCache cache(digest_cache_file(flag));
//   results::ModelIdentity id = identify_checkpoint(resolved, cache);
//
// Errors: DataError naming the file (unreadable weights, bad config.json, no weights).
// Cost: one read of every weight file on a cache miss; a line on stderr says how much was read
// when more than 256 MiB had to be.
#pragma once

#include <filesystem>
#include <string>

#include "data/file_digest_cache.h"
#include "model/model_resolver.h"
#include "results/model_identity.h"

namespace pythia::harness {

results::ModelIdentity identify_checkpoint(const model::ResolvedModel& resolved,
                                           data::FileDigestCache& cache);

// The --hash-cache flag: "" = the default file (data/file_digest_cache.h), "none" = no cache file.
std::filesystem::path digest_cache_file(const std::string& flag);

}  // namespace pythia::harness

// THE output layout of every job, in one place:
//   <root>/<model>/<revision>/                 eval (results.json, or with published names
//                                              <size>[-<K>shot]_step<N>.json; samples_*, docs_*), memorize
//                                              (memorization.json, *.csv.gz), sweep_complete.json
//   <root>/<model>/<revision>/shard-K-of-N/    one shard of a distributed memorize run (K 0-based)
// A checkpoint without a revision (a plain folder) is written as revision "main". `model` is the
// display name of model/model_resolver.h (e.g. "pythia-70m-deduped"). Pure; thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pythia::results {

// "" -> "main"; else the revision unchanged.
std::string revision_folder(const std::string& revision);

// <root>/<model>/<revision_folder(revision)>.
std::filesystem::path run_dir(const std::filesystem::path& root, const std::string& model,
                              const std::string& revision);

// The eval results file name of our own layout.
inline constexpr const char* kEvalResultsJson = "results.json";

// The size part of Pythia's published file names: the model name's last path component without
// a leading "pythia-v1.1-" or "pythia-" ("EleutherAI/pythia-160m-deduped" -> "160m-deduped",
// "pythia-v1.1-1b" -> "1b", "mini-pythia" -> "mini-pythia").
std::string published_size_name(std::string_view model);

// The file name Pythia's evals/ uses (tests/fixtures/published-evals/README.md):
// "<size>_step<N>.json" for num_fewshot 0, "<size>-<K>shot_step<N>.json" for K > 0
// ("160m-5shot_step3000.json").
std::string published_eval_file_name(std::string_view model, std::int64_t step, int num_fewshot);

// "shard-K-of-N".
std::string shard_folder(std::uint64_t index, std::uint64_t count);

// (K, N) of a "shard-K-of-N" folder name with K < N; nullopt for anything else.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_shard_folder(std::string_view name);

}  // namespace pythia::results

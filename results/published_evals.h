// Pythia's published evals/ trees (EleutherAI/pythia evals/pythia-v1 and pythia-v0; real files in
// tests/fixtures/published-evals with a README describing them), read beside ours so `compare` and
// `report` can put our numbers next to EleutherAI's across steps.
//
// A published tree holds MANY results files per folder (one per step, zero- and five-shot side by
// side or in zero-shot/ and five-shot/), named
//   <size>_step<N>.json, <size>-<K>shot_step<N>.json             (pythia-v1; also baseline-/intervention- prefixes)
//   <model>-<K>shot-global_step<N>_eval_results_<date>.json      (pythia-v0)
// Names are NOT reliable for the shot count (73 five-shot files lack "-5shot", 4 zero-shot files
// have it): the file's config.num_fewshot decides. The step in the name must agree with the
// file's revision=stepN (pythia-v1) or iteration (pythia-v0), else the file is refused.
//
// A checkpoint is identified by (model size, step, num_fewshot), the size normalised like
// published names ("EleutherAI/pythia-v1.1-160m" and our "pythia-160m" are both "160m").
// Pure; thread-safe. Errors: ResultsFileError naming the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "results/results_reader.h"

namespace pythia::results {

struct PublishedFileName {
  std::string size;        // "160m", "1b-deduped", "baseline-70m-deduped", "pythia-160m" (v0)
  std::int64_t step = 0;
  int num_fewshot = 0;     // what the NAME says ("-5shot"), not necessarily the truth
};

// Parses the two published name patterns above; nullopt for any other name ("results.json").
std::optional<PublishedFileName> parse_published_file_name(std::string_view filename);

struct EvalCheckpoint {
  std::string model;                 // normalised size name, e.g. "160m"
  std::optional<std::int64_t> step;  // nullopt: unknown (e.g. revision "main")
  int num_fewshot = 0;
};

// The checkpoint of an eval file: model from config.model_args "pretrained=" (else
// config.model, else the folder), step from revision_of_eval (model_args revision=stepN,
// config.model_revision, the folder) or the pythia-v0 model_args.iteration, else the file name;
// num_fewshot from config.num_fewshot, else the tasks' n-shot, else the file name. Throws
// ResultsFileError naming the file when a published file name's step disagrees with the file.
EvalCheckpoint eval_checkpoint(const EvalFile& f, const std::string& folder_key);

// "160m step3000 0-shot" ("160m main 0-shot" without a step): how compare matches checkpoints
// of two trees and labels them.
std::string checkpoint_label(const EvalCheckpoint& c);

}  // namespace pythia::results

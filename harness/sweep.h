// The checkpoint sweep driver behind `pythia-harness sweep`: for each revision, load the model
// once, run the jobs (eval and/or memorization) on it, then mark the checkpoint complete.
//
//   output layout  DIR/<model>/<revision>/...   (the jobs' own files, see eval/eval_job.h and
//                  memorization/scan_job.h) + DIR/<model>/<revision>/sweep_complete.json, written
//                  atomically LAST, holding the sweep signature (which jobs, with which options).
//   resume         a checkpoint whose marker holds the same signature is skipped; a killed sweep
//                  re-run with the same arguments continues where it stopped (the memorize job
//                  also resumes inside a checkpoint from its journal).
//   failures       a checkpoint that throws is reported (stderr + SweepReport::failed) and the
//                  others still run; the caller exits non-zero at the end.
//   identity       revisions whose weights are byte-identical (same weights_sha256) to another
//                  revision of the sweep (hub branches serving the wrong weights, pythia issues
//                  #195/#205/#206) get a "warning: ... identical weights" line on stderr and
//                  model_identity.identical_weights_as (the earlier revisions) in their files;
//                  skipped checkpoints contribute the identity recorded in their files.
//   progress       one line per checkpoint on stderr with overall progress and an ETA from the
//                  mean time of the checkpoints computed so far.
//
// Thread safety: run_sweep runs checkpoints one after another; the jobs parallelise inside.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/causal_lm.h"
#include "results/model_identity.h"

namespace pythia::harness {

inline constexpr const char* kSweepMarker = "sweep_complete.json";

// One loaded checkpoint, shared by every job of that checkpoint.
struct SweepCheckpoint {
  std::string model_name;  // as used in the output path
  std::string revision;
  std::shared_ptr<const model::CausalLm> lm;
  std::shared_ptr<const void> extra;  // e.g. the tokenizer; owned by the loader
  // The weights' identity (results/model_identity.h) when the loader knows it; run_sweep fills
  // identity->identical_weights_as before the jobs run.
  std::optional<results::ModelIdentity> identity;
};

struct SweepJob {
  std::string name;  // "eval", "memorize"
  std::function<void(const SweepCheckpoint&)> run;
};

struct SweepPlan {
  std::string model_name;              // output folder name of the model
  std::vector<std::string> revisions;  // in order
  std::filesystem::path output;        // DIR
  nlohmann::json signature;            // what is run; a marker with another signature is redone
  std::function<SweepCheckpoint(const std::string& revision)> load;
  std::vector<SweepJob> jobs;
  bool show_progress = true;           // per-checkpoint lines on stderr
};

struct SweepReport {
  // Revisions with the weights of an earlier revision: (revision, the earlier ones).
  std::vector<std::pair<std::string, std::vector<std::string>>> identical_weights;
  std::vector<std::string> completed;  // run now
  std::vector<std::string> skipped;    // already complete in DIR
  std::vector<std::string> failed;     // with the error in `errors` at the same index
  std::vector<std::string> errors;
  double seconds = 0.0;
};

// The folder of one checkpoint: output / model_name / revision.
std::filesystem::path checkpoint_dir(const SweepPlan& plan, const std::string& revision);

// True when the checkpoint's marker exists and holds plan.signature.
bool checkpoint_complete(const SweepPlan& plan, const std::string& revision);

SweepReport run_sweep(const SweepPlan& plan);

// Parses --revisions: "all" -> `available` (all local revisions, in order); else a comma list
// ("step0,step1000"), each must be in `available` when `available` is non-empty. Duplicates are
// dropped, order kept. Throws UsageError.
std::vector<std::string> parse_revision_list(const std::string& spec,
                                             const std::vector<std::string>& available);

}  // namespace pythia::harness

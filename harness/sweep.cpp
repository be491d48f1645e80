// See sweep.h.
#include "harness/sweep.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <map>

#include "data/error.h"
#include "data/progress.h"
#include "results/eval_results.h"
#include "results/output_layout.h"
#include "results/results_reader.h"

namespace pythia::harness {

std::filesystem::path checkpoint_dir(const SweepPlan& plan, const std::string& revision) {
  return results::run_dir(plan.output, plan.model_name, revision);
}

bool checkpoint_complete(const SweepPlan& plan, const std::string& revision) {
  const auto marker = checkpoint_dir(plan, revision) / kSweepMarker;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(marker, ec)) return false;
  try {
    const nlohmann::json j = results::read_json_file(marker);
    return j.is_object() && j.value("complete", false) && j.contains("signature") &&
           j["signature"] == plan.signature;
  } catch (const std::exception&) {
    return false;  // unreadable marker: redo the checkpoint
  }
}

SweepReport run_sweep(const SweepPlan& plan) {
  using clock = std::chrono::steady_clock;
  SweepReport report;
  const auto t0 = clock::now();
  const std::size_t total = plan.revisions.size();
  double computed_seconds = 0.0;
  std::size_t computed = 0;
  std::map<std::string, std::vector<std::string>> by_weights;  // weights_sha256 -> revisions so far
  auto note_identity = [&](const std::string& rev, results::ModelIdentity& id) {
    auto& same = by_weights[id.weights_sha256];
    id.identical_weights_as = same;
    if (!same.empty()) {
      std::string list;
      for (const auto& r : same) list += (list.empty() ? "" : ", ") + r;
      std::fprintf(stderr, "warning: sweep: %s %s has weights identical to %s (weights_sha256 %s): "
                           "the hub branch may serve the wrong checkpoint\n",
                   plan.model_name.c_str(), rev.c_str(), list.c_str(), id.weights_sha256.substr(0, 12).c_str());
      report.identical_weights.emplace_back(rev, same);
    }
    same.push_back(rev);
  };
  for (std::size_t i = 0; i < total; ++i) {
    const std::string& rev = plan.revisions[i];
    const std::string label = plan.model_name + " " + rev;
    if (checkpoint_complete(plan, rev)) {
      report.skipped.push_back(rev);
      if (auto id = results::read_recorded_identity(checkpoint_dir(plan, rev))) note_identity(rev, *id);
      if (plan.show_progress) {
        std::fprintf(stderr, "sweep [%zu/%zu] %s: already complete, skipped\n", i + 1, total,
                     label.c_str());
      }
      continue;
    }
    if (plan.show_progress) {
      std::fprintf(stderr, "sweep [%zu/%zu] %s: running\n", i + 1, total, label.c_str());
    }
    const auto c0 = clock::now();
    try {
      SweepCheckpoint ckpt = plan.load(rev);
      if (ckpt.identity) note_identity(rev, *ckpt.identity);
      for (const SweepJob& job : plan.jobs) job.run(ckpt);
      nlohmann::json marker = {{"complete", true},
                               {"model", plan.model_name},
                               {"revision", rev},
                               {"signature", plan.signature}};
      results::write_json_atomic(checkpoint_dir(plan, rev) / kSweepMarker, marker);
      report.completed.push_back(rev);
    } catch (const std::exception& e) {
      report.failed.push_back(rev);
      report.errors.push_back(e.what());
      std::fprintf(stderr, "sweep [%zu/%zu] %s: FAILED: %s\n", i + 1, total, label.c_str(), e.what());
    }
    const double secs = std::chrono::duration<double>(clock::now() - c0).count();
    computed_seconds += secs;
    ++computed;
    if (plan.show_progress) {
      std::size_t remaining = 0;
      for (std::size_t k = i + 1; k < total; ++k) {
        if (!checkpoint_complete(plan, plan.revisions[k])) ++remaining;
      }
      const double eta = computed_seconds / static_cast<double>(computed) * static_cast<double>(remaining);
      std::fprintf(stderr, "sweep [%zu/%zu] %s: %s in %s; overall %.0f%%, ETA %s\n", i + 1, total,
                   label.c_str(), report.failed.empty() || report.failed.back() != rev ? "done" : "failed",
                   data::format_duration(secs).c_str(), 100.0 * static_cast<double>(i + 1) / static_cast<double>(total),
                   data::format_duration(eta).c_str());
    }
  }
  report.seconds = std::chrono::duration<double>(clock::now() - t0).count();
  return report;
}

std::vector<std::string> parse_revision_list(const std::string& spec,
                                             const std::vector<std::string>& available) {
  if (spec == "all") {
    if (available.empty()) throw UsageError("--revisions all: the model has no local revisions");
    return available;
  }
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= spec.size()) {
    std::size_t comma = spec.find(',', pos);
    if (comma == std::string::npos) comma = spec.size();
    std::string r = spec.substr(pos, comma - pos);
    r.erase(0, r.find_first_not_of(" \t"));
    r.erase(r.find_last_not_of(" \t") + 1);
    if (!r.empty()) {
      if (!available.empty() && std::find(available.begin(), available.end(), r) == available.end()) {
        std::string list;
        for (const auto& a : available) list += (list.empty() ? "" : ", ") + a;
        throw UsageError("--revisions: '" + r + "' is not available locally (have: " + list + ")");
      }
      if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
    }
    pos = comma + 1;
  }
  if (out.empty()) throw UsageError("--revisions: empty list");
  return out;
}

}  // namespace pythia::harness

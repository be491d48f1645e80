#include "memorization/scan_plan.h"

#include <algorithm>

#include "data/error.h"

namespace pythia::memorization {
using J = nlohmann::ordered_json;

const char* to_string(EodPolicy p) { return p == EodPolicy::kReference ? "reference" : "allow"; }
const char* to_string(ScoreMode m) { return m == ScoreMode::kExact ? "exact" : "memorized-only"; }
const char* to_string(Checksums c) {
  switch (c) {
    case Checksums::kAuto: return "auto";
    case Checksums::kAll: return "all";
    case Checksums::kIdx: return "idx";
    case Checksums::kNone: return "none";
  }
  return "?";
}

EodPolicy parse_eod_policy(const std::string& t) {
  if (t == "reference") return EodPolicy::kReference;
  if (t == "allow") return EodPolicy::kAllow;
  throw UsageError("--eod-policy must be 'reference' or 'allow' (got '" + t + "')");
}

ScoreMode parse_score_mode(const std::string& t) {
  if (t == "exact") return ScoreMode::kExact;
  if (t == "memorized-only") return ScoreMode::kMemorizedOnly;
  throw UsageError("score mode must be 'exact' or 'memorized-only' (got '" + t + "')");
}

Checksums parse_checksums(const std::string& t) {
  for (Checksums c : {Checksums::kAuto, Checksums::kAll, Checksums::kIdx, Checksums::kNone}) {
    if (t == to_string(c)) return c;
  }
  throw UsageError("--checksums must be auto, all, idx or none (got '" + t + "')");
}

void ScanPlan::validate() const {
  if (data.empty()) throw UsageError("--data PREFIX is required");
  if (batch_size < 1) throw UsageError("--batch-size must be >= 1");
  if (prefix_len < 1 || continuation_len < 1) {
    throw UsageError("--prefix-len and --continuation-len must be >= 1");
  }
  if (continuation_len > 255) throw UsageError("--continuation-len must be <= 255");
  if (!(tau >= 0)) throw UsageError("--tau must be >= 0");
  if (sequences_per_step < 1) throw UsageError("--sequences-per-step must be >= 1");
  if (step) rows_of_step(*step, sequences_per_step);  // throws for a step outside 0..143000
  if (start.has_value() != end.has_value() || (start && *end < *start)) {
    throw UsageError("--start A --end B need 0 <= A <= B, both given");
  }
}

J ScanPlan::to_json() const {
  auto opt = [](const auto& v) { return v ? J(*v) : J(nullptr); };
  J j{{"data", data.string()},
           {"start", opt(start)},
           {"end", opt(end)},
           {"step", opt(step)},
           {"sequences_per_step", sequences_per_step},
           {"prefix_len", prefix_len},
           {"continuation_len", continuation_len},
           {"eod_policy", to_string(eod_policy)},
           {"score_mode", to_string(score_mode)},
           {"tau", tau},
           {"shard", shard ? J(shard_dir_name(*shard)) : J(nullptr)},
           {"extended_csv", extended_csv},
           {"checksums", to_string(checksums)},
           {"verify_sha256", verify_sha256.string()},
           {"any_layout", any_layout}};
  if (token_stats) j["token_stats"] = true;
  if (memorized_evals) j["memorized_evals"] = true;
  return j;
}

model::Workload ScanPlan::workload(int threads) const {
  const int blocks = std::max(2, threads);
  model::Workload w;
  w.sequences = static_cast<std::int64_t>(blocks) * batch_size;
  w.positions = prefix_len + continuation_len;
  w.what = "memorize: " + std::to_string(blocks) + " blocks in flight x " +
           std::to_string(batch_size) + " rows (--batch-size) x " + std::to_string(w.positions) +
           " positions; fewer --threads or a smaller --batch-size lower them";
  return w;
}

}  // namespace pythia::memorization

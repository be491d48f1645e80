// The `memorize` flags (shared with `sweep`): bound as text by Boost.Program_options, then turned
// into a typed, validated memorization::ScanPlan BEFORE any model loads.
//
//   MemorizeFlags f;  add_memorize_options(desc, f);  ... parse ...
//   const ScanPlan plan = to_scan_plan(f);   // UsageError (exit 2) for any bad value
#pragma once

#include <boost/program_options/options_description.hpp>
#include <cstdint>
#include <string>

#include "memorization/scan_plan.h"

namespace pythia::harness {

struct MemorizeFlags {
  std::string data, output = "results";
  std::int64_t start = -1, end = -1, step = -1;  // -1: not given
  std::int64_t sequences_per_step = 1024;
  int prefix_len = 32, continuation_len = 32;
  std::string eod_policy = "reference";
  bool memorized_only = false;
  double tau = 0.0625;
  int batch_size = 64;
  std::string shard;                             // "K/N"; empty: launcher environment or none
  bool extended_csv = false;
  bool token_stats = false;
  bool memorized_evals = false;
  std::string checksums = "auto";
  std::string verify_sha256;
  bool any_layout = false;
  bool no_progress = false;
};

// Registers the memorize flags (all but --model/--revision/--threads) bound to `f`.
void add_memorize_options(boost::program_options::options_description& desc, MemorizeFlags& f);

// The plan of `f`, validated (ScanPlan::validate). The slice: --shard, else the launcher
// environment (harness/launcher_env.h) when `from_launcher_env`, else none.
memorization::ScanPlan to_scan_plan(const MemorizeFlags& f, bool from_launcher_env = true);

}  // namespace pythia::harness

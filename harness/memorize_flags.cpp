#include "harness/memorize_flags.h"

#include <boost/program_options.hpp>

#include "data/error.h"
#include "harness/launcher_env.h"

namespace pythia::harness {
namespace po = boost::program_options;

void add_memorize_options(po::options_description& desc, MemorizeFlags& o) {
  desc.add_options()
      ("data", po::value(&o.data),
       "training data: Megatron memmap PREFIX (PREFIX.idx + PREFIX.bin or its byte shards "
       "PREFIX-0000K-of-0000N.bin), Pythia's preshuffled layout (rows of 2049 tokens)")
      ("output", po::value(&o.output)->default_value(o.output),
       "results root DIR: files go to DIR/<model>/<revision>[/shard-K-of-N]/")
      ("step", po::value(&o.step),
       "checkpoint step N (default: from a revision named stepN): scan rows [0, S*N), every row "
       "the checkpoint was trained on; N <= 143000, N = 0 scans nothing")
      ("start", po::value(&o.start), "first row of an explicit range (with --end; overrides --step)")
      ("end", po::value(&o.end), "one past the last row of an explicit range")
      ("sequences-per-step", po::value(&o.sequences_per_step)->default_value(o.sequences_per_step),
       "rows per optimizer step S (Pythia: 1024; the mini-pythia fixtures: 16)")
      ("prefix-len", po::value(&o.prefix_len)->default_value(o.prefix_len), "prompt tokens (paper: 32)")
      ("continuation-len", po::value(&o.continuation_len)->default_value(o.continuation_len),
       "tokens to reproduce (paper: 32)")
      ("eod-policy", po::value(&o.eod_policy)->default_value(o.eod_policy),
       "reference: id 0 (EOD) is never predicted, as eval_memorization.py's min_length=64; "
       "allow: plain argmax (non-reference, labelled so in the output)")
      ("memorized-only", po::bool_switch(&o.memorized_only),
       "decide memorized (score == 1) with the teacher-forced pass only; no fractional scores "
       "and no memorization_scores.csv.gz (several times faster)")
      ("tau", po::value(&o.tau)->default_value(o.tau),
       "near-tie threshold: a row whose smallest top-1/top-2 logit gap over its scored steps is "
       "below tau is reported as fragile (spec §5)")
      ("batch-size", po::value(&o.batch_size)->default_value(o.batch_size),
       "rows per block: the resume unit and the decode batch (does not change results)")
      ("shard", po::value(&o.shard),
       "K/N: scan only slice K (0-based) of N of the range (default: rank/size from "
       "OMPI_COMM_WORLD_RANK/SIZE, PMI_RANK/SIZE or SLURM_PROCID/NTASKS; combine with `merge`)")
      ("extended-csv", po::bool_switch(&o.extended_csv),
       "also write memorization_scores_extended.csv.gz (first mismatch, min margin, fragile, "
       "eod_in_target, unseen per row)")
      ("token-stats", po::bool_switch(&o.token_stats),
       "also write memorization_token_stats.bin: for every row and continuation position the "
       "target token's log-probability, its rank among all ids (1 = a maximum; ties share the "
       "best rank) and the entropy of the predicted distribution, from the teacher-forced pass "
       "(binary layout: memorization/README.md); resumable like the scores")
      ("memorized-evals", po::bool_switch(&o.memorized_evals),
       "also write memorized_evals.jsonl.gz: the memorized rows as EleutherAI published them "
       "(dataset EleutherAI/pythia-memorized-evals: index, the row's first P+L tokens, "
       "__index_level_0__), to compare with a published split (`compare OURS THEIRS.jsonl`)")
      ("checksums", po::value(&o.checksums)->default_value(o.checksums),
       "SHA-256 of the data files in memorization.json: auto (.idx always, .bin when <= 1 GiB), "
       "all, idx, none")
      ("verify-sha256", po::value(&o.verify_sha256),
       "FILE of \"<filename> <sha256>\" lines (Pythia utils/shard_hashes.txt format): every data "
       "file listed there is hashed and must match")
      ("any-layout", po::bool_switch(&o.any_layout),
       "accept a non-preshuffled memmap (rows need only >= prefix+continuation tokens)")
      ("no-progress", po::bool_switch(&o.no_progress),
       "no progress line on stderr");
}

memorization::ScanPlan to_scan_plan(const MemorizeFlags& f, bool from_launcher_env) {
  using namespace memorization;
  ScanPlan p;
  p.data = f.data;
  p.output = f.output;
  if (f.start != -1 || f.end != -1) {
    if (f.start < 0 || f.end < 0 || f.end < f.start) {
      throw UsageError("--start A --end B need 0 <= A <= B (got " + std::to_string(f.start) + ", " +
                       std::to_string(f.end) + ")");
    }
    p.start = static_cast<std::uint64_t>(f.start);
    p.end = static_cast<std::uint64_t>(f.end);
  }
  if (f.step != -1) {
    if (f.step < 0) throw UsageError("--step must be >= 0");
    p.step = f.step;
  }
  p.sequences_per_step = f.sequences_per_step;
  p.prefix_len = f.prefix_len;
  p.continuation_len = f.continuation_len;
  p.eod_policy = parse_eod_policy(f.eod_policy);
  p.score_mode = f.memorized_only ? ScoreMode::kMemorizedOnly : ScoreMode::kExact;
  p.tau = f.tau;
  p.batch_size = f.batch_size;
  if (!f.shard.empty()) {
    p.shard = parse_shard(f.shard);
  } else if (from_launcher_env) {
    p.shard = shard_from_env();
  }
  if (p.shard && !p.shard->sharded()) p.shard.reset();
  p.extended_csv = f.extended_csv;
  p.token_stats = f.token_stats;
  p.memorized_evals = f.memorized_evals;
  p.checksums = parse_checksums(f.checksums);
  p.verify_sha256 = f.verify_sha256;
  p.any_layout = f.any_layout;
  p.progress = !f.no_progress;
  p.validate();
  return p;
}

}  // namespace pythia::harness

// The subcommands of pythia-harness. Each lives in its own harness/cmd_<name>.cpp, parses its own
// flags with Boost.Program_options, prints `--help` for every flag, and returns an exit code
// (data/error.h). Errors are thrown (UsageError, DataError) and mapped to exit codes by main().
#pragma once

#include <string>
#include <vector>

namespace pythia::harness {

using Args = std::vector<std::string>;  // the arguments after the subcommand name

int run_score(const Args& args);     // per-token log-probabilities of jsonl sequences
int run_generate(const Args& args);  // greedy continuations
int run_tokenize(const Args& args);  // text <-> ids with the GPT-NeoX-20B tokenizer
int run_memorize(const Args& args);  // the memorization scan of one checkpoint
int run_merge(const Args& args);     // join memorize shards
int run_eval(const Args& args);      // lm-evaluation-harness tasks
int run_sweep(const Args& args);     // eval and/or memorize across checkpoints
int run_compare(const Args& args);   // regression check between two result trees
int run_report(const Args& args);    // self-contained HTML report
int run_analyze(const Args& args);   // cross-checkpoint memorized-set analysis
int run_dedup_count(const Args& args);  // duplicate counts of the scanned windows

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const Args&);
};

// Every subcommand, in the order `--help` lists them.
inline constexpr Command kCommands[] = {
    {"score", "per-token log-probabilities, argmax and logsumexp of token sequences", run_score},
    {"generate", "greedy continuation of token sequences", run_generate},
    {"tokenize", "encode text to GPT-NeoX-20B token ids, or decode ids to text", run_tokenize},
    {"eval", "run lm-evaluation-harness tasks on a checkpoint", run_eval},
    {"memorize", "scan training sequences for exact 32-token memorization", run_memorize},
    {"merge", "join the shards of a memorize run", run_merge},
    {"sweep", "eval and/or memorize every checkpoint of a model", run_sweep},
    {"compare", "compare two result files or trees; non-zero exit on regression", run_compare},
    {"report", "write a self-contained HTML report of a results tree", run_report},
    {"analyze", "memorized-set matrix across checkpoints and models (precision, recall, gained, forgotten)",
     run_analyze},
    {"dedup-count", "count how often each scanned 64-token window occurs in the training memmap",
     run_dedup_count},
};

}  // namespace pythia::harness

// `pythia-harness score`: per-token log-probabilities, argmax and logsumexp of token sequences,
// from one teacher-forced forward pass per sequence (model/gpt_neox.h; matches Hugging Face
// transformers 4.40.2 GPTNeoXForCausalLM in fp32 to ~1e-5).
#include <tbb/parallel_for.h>

#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "data/error.h"
#include "harness/cli_util.h"
#include "harness/commands.h"
#include "harness/model_options.h"
#include "data/progress.h"
#include "harness/sequence_io.h"
#include "harness/threading.h"
#include "model/logit_ops.h"
#include "model/tokenizer.h"

namespace pythia::harness {
namespace {

namespace po = boost::program_options;

const char* const kUsage =
    "Usage: pythia-harness score --model M [--revision R] --input IN.jsonl --output OUT.jsonl\n"
    "                            [--tokenizer F] [--threads N] [--batch-size B]\n"
    "\n"
    "Every input line {\"ids\": [t0, ..., t(n-1)]} (or {\"text\": \"...\"}, encoded with the\n"
    "model's tokenizer.json or --tokenizer) becomes one output line, in input order:\n"
    "  {\"ids\": [...],            the tokens scored (the encoded text for a text line)\n"
    "   \"logprobs\": [n-1],       log_softmax(logits[t])[ids[t+1]], t = 0..n-2 (natural log)\n"
    "   \"argmax\": [n],           id of the largest logit after each token (first id on ties)\n"
    "   \"logsumexp\": [n]}        logsumexp of the 50304 logits after each token\n"
    "No BOS token is added: the first token is only context. Sequences longer than the model's\n"
    "max_position_embeddings (2048 for Pythia) are refused (exit 3); score windows yourself.\n"
    "Results do not depend on --threads or --batch-size.\n"
    "\n"
    "Exit status: 0 ok, 2 usage error, 3 a file that cannot be read or a bad line (the message\n"
    "names file:line).\n"
    "\n"
    "Options";

struct Options {
  ModelOptions model;
  SequenceIoOptions io;
  int batch_size = 64;
};

// Sequences at least this long are scored one at a time (each uses both threads internally and
// a large KV cache); shorter ones are scored concurrently.
constexpr std::size_t kLongSequence = 256;

nlohmann::json score_one(const model::CausalLm& m, const std::vector<model::Token>& ids) {
  const int n = static_cast<int>(ids.size());
  std::vector<double> logprobs(ids.size() - 1), lse(ids.size());
  std::vector<int> arg(ids.size());
  std::vector<int> rows(ids.size());
  for (int i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = i;
  model::KvCache cache = m.make_cache(n);
  m.forward(ids, cache, rows, [&](int row, std::span<const float> logits) {
    const auto r = static_cast<std::size_t>(row);
    lse[r] = model::logsumexp(logits);
    arg[r] = model::argmax(logits);
    if (row + 1 < n) logprobs[r] = static_cast<double>(logits[static_cast<std::size_t>(ids[r + 1])]) - lse[r];
  });
  return nlohmann::json{{"ids", ids}, {"logprobs", logprobs}, {"argmax", arg}, {"logsumexp", lse}};
}

}  // namespace

int run_score(const Args& args) {
  Options o;
  po::options_description desc(kUsage);
  desc.add_options()("help,h", "print this help");
  add_model_options(desc, o.model);
  add_sequence_io_options(desc, o.io);
  desc.add_options()
      ("batch-size", po::value<int>(&o.batch_size)->default_value(64),
       "sequences read and scored concurrently (memory/throughput only; results are identical)");
  if (!parse_or_help(args, desc)) return 0;  // --help was printed
  require_input_output(o.io);
  if (o.batch_size < 1) throw UsageError("--batch-size must be >= 1");

  ThreadSetup threads(o.model.threads);
  check_tokenizer_path(o.io);
  // KV caches at once: a sequence of >= kLongSequence positions alone, or up to `threads` shorter
  // ones together; sized by the longest input sequence (a pre-pass; max_position_embeddings when
  // the input is stdin), so a big model scoring short sequences is not refused for 2048-position
  // caches it never allocates.
  const std::int64_t longest = longest_sequence_bound(o.io.input);
  model::Workload work;
  if (longest > 0) {
    const std::int64_t shorts = threads.threads() * std::min<std::int64_t>(longest, kLongSequence - 1);
    work = {std::max<std::int64_t>(1, (shorts + longest - 1) / longest), longest,
            "score: sequences of up to " + std::to_string(longest) + " positions (the longest input line), " +
                std::to_string(threads.threads()) + " at once when short; fewer --threads lower them"};
  } else {
    work = {1 + (threads.threads() + 7) / 8, 0,
            "score: one sequence of up to max_position_embeddings positions, as the input is stdin; "
            "an --input file, sized by its longest line, lowers them"};
  }
  const LoadedModel lm = load_model_from_options(o.model, work, /*with_identity=*/false);
  const model::CausalLm& m = *lm.model;
  const std::optional<model::Tokenizer> tok = load_text_tokenizer(o.io, lm.dir);

  SequenceLimits limits;
  limits.vocab_size = m.vocab_size();
  limits.max_len = m.max_positions();
  limits.max_len_reason = " (the model's max_position_embeddings)";

  OutputFile out(o.io.output);
  data::Progress progress("score", 0, "tokens");
  std::uint64_t n_seq = 0, n_tok = 0;
  for_each_sequence_block(
      o.io.input, tok ? &*tok : nullptr, limits, static_cast<std::size_t>(o.batch_size),
      [&](std::vector<SequenceLine>& block) {
        std::vector<nlohmann::json> results(block.size());
        std::vector<std::size_t> short_ones;
        for (std::size_t i = 0; i < block.size(); ++i) {
          if (block[i].ids.size() >= kLongSequence) {
            results[i] = score_one(m, block[i].ids);
            progress.advance(block[i].ids.size());
          } else {
            short_ones.push_back(i);
          }
        }
        tbb::parallel_for(std::size_t{0}, short_ones.size(), [&](std::size_t k) {
          const std::size_t i = short_ones[k];
          results[i] = score_one(m, block[i].ids);
          progress.advance(block[i].ids.size());
        });
        for (std::size_t i = 0; i < block.size(); ++i) {
          out.stream() << results[i].dump() << '\n';
          n_tok += block[i].ids.size();
        }
        n_seq += block.size();
      });
  progress.finish();
  out.close();
  if (o.io.output != "-")
    std::fprintf(stderr, "score: %llu sequences, %llu tokens -> %s\n",
                 static_cast<unsigned long long>(n_seq), static_cast<unsigned long long>(n_tok),
                 o.io.output.c_str());
  return 0;
}

}  // namespace pythia::harness

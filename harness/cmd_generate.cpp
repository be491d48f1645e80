// `pythia-harness generate`: greedy continuations of token sequences, as Hugging Face
// transformers 4.40.2 `model.generate(do_sample=False)` computes them, with a KV cache; prefixes
// of a block are processed together (one batched decode step per new token, model/gpt_neox.h:
// a sequence's tokens do not depend on the batch).
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
#include "model/greedy_decoder.h"
#include "model/tokenizer.h"

namespace pythia::harness {
namespace {

namespace po = boost::program_options;

const char* const kUsage =
    "Usage: pythia-harness generate --model M [--revision R] --input IN.jsonl --output OUT.jsonl\n"
    "                               [--max-new-tokens N] [--suppress-eos] [--tokenizer F]\n"
    "                               [--threads N] [--batch-size B]\n"
    "\n"
    "Every input line {\"ids\": [...]} (or {\"text\": \"...\"}, encoded with the model's\n"
    "tokenizer.json or --tokenizer) becomes one output line {\"ids\": [prefix], \"generated\":\n"
    "[new tokens]}, in input order. Greedy: each new token is the argmax of the logits after the\n"
    "last token (first id on exact ties, as torch.argmax).\n"
    "  default         stops after the EOS token (id eos_token_id = 0 for Pythia), which is\n"
    "                  included; as generate(do_sample=False) without padding.\n"
    "  --suppress-eos  EOS is masked at every step and exactly N tokens are generated: the call\n"
    "                  of EleutherAI/pythia predictable-memorization/eval_memorization.py,\n"
    "                  generate(min_length=max_length) (MinLengthLogitsProcessor).\n"
    "len(prefix) + N - 1 must not exceed max_position_embeddings.\n"
    "Results do not depend on --threads or --batch-size.\n"
    "\n"
    "Exit status: 0 ok, 2 usage error, 3 a file that cannot be read or a bad line (the message\n"
    "names file:line).\n"
    "\n"
    "Options";

struct Options {
  ModelOptions model;
  SequenceIoOptions io;
  int max_new_tokens = 32;
  bool suppress_eos = false;
  int batch_size = 64;
};

// Greedy continuation of every sequence of `block`: each prefix minus its last token through
// forward() (no logits), then the last prefix tokens of the whole block as the first batched
// decode step (one unembedding pass for the block), then greedy steps (model/greedy_decoder.h)
// until max_new tokens or, unless suppressed, EOS.
std::vector<std::vector<model::Token>> generate_block(const model::CausalLm& m, model::Token eos,
                                                      const std::vector<SequenceLine>& block,
                                                      int max_new, bool suppress_eos) {
  const std::size_t n = block.size();
  std::vector<std::vector<model::Token>> out(n);
  if (max_new <= 0) return out;
  std::vector<model::KvCache> caches(n);
  tbb::parallel_for(std::size_t{0}, n, [&](std::size_t i) {
    const auto& ids = block[i].ids;
    caches[i] = m.make_cache(static_cast<int>(ids.size()) + max_new - 1);
    m.forward(std::span<const model::Token>(ids).first(ids.size() - 1), caches[i], {},
              [](int, std::span<const float>) {});
  });
  std::vector<model::Token> last(n);
  std::vector<model::KvCache*> ptrs(n);
  for (std::size_t i = 0; i < n; ++i) {
    last[i] = block[i].ids.back();
    ptrs[i] = &caches[i];
  }
  model::greedy_decode(m, ptrs, last, suppress_eos ? eos : -1,
                       [&](std::size_t i, const model::GreedyChoice& c) {
                         out[i].push_back(c.token);
                         return static_cast<int>(out[i].size()) < max_new && (suppress_eos || c.token != eos);
                       });
  return out;
}

}  // namespace

int run_generate(const Args& args) {
  Options o;
  po::options_description desc(kUsage);
  desc.add_options()("help,h", "print this help");
  add_model_options(desc, o.model);
  add_sequence_io_options(desc, o.io);
  desc.add_options()
      ("max-new-tokens", po::value<int>(&o.max_new_tokens)->default_value(32),
       "tokens to generate per sequence (at most; exactly with --suppress-eos). Default 32 = "
       "eval_memorization.py's 64-token max_length after a 32-token prefix")
      ("suppress-eos", po::bool_switch(&o.suppress_eos),
       "never generate EOS (mask its logit at every step), as eval_memorization.py's "
       "generate(min_length=64)")
      ("batch-size", po::value<int>(&o.batch_size)->default_value(64),
       "sequences decoded together (one weight pass per step; results are identical)");
  if (!parse_or_help(args, desc)) return 0;  // --help was printed
  require_input_output(o.io);
  if (o.batch_size < 1) throw UsageError("--batch-size must be >= 1");
  if (o.max_new_tokens < 0) throw UsageError("--max-new-tokens must be >= 0");

  ThreadSetup threads(o.model.threads);
  check_tokenizer_path(o.io);
  const LoadedModel lm = load_model_from_options(
      o.model, model::Workload{1, 0, "generate: one sequence of up to max_position_embeddings positions"},
      /*with_identity=*/false);
  const model::CausalLm& m = *lm.model;
  const model::Token eos = lm.model->config().eos_token_id;
  if (o.max_new_tokens > m.max_positions())
    throw UsageError("--max-new-tokens exceeds max_position_embeddings " +
                     std::to_string(m.max_positions()));
  const std::optional<model::Tokenizer> tok = load_text_tokenizer(o.io, lm.dir);

  SequenceLimits limits;
  limits.vocab_size = m.vocab_size();
  limits.max_len = m.max_positions() - std::max(0, o.max_new_tokens - 1);
  limits.max_len_reason = " (max_position_embeddings " + std::to_string(m.max_positions()) +
                          " minus --max-new-tokens " + std::to_string(o.max_new_tokens) + " + 1)";

  OutputFile out(o.io.output);
  data::Progress progress("generate", 0, "sequences");
  std::uint64_t n_seq = 0;
  for_each_sequence_block(o.io.input, tok ? &*tok : nullptr, limits,
                          static_cast<std::size_t>(o.batch_size),
                          [&](std::vector<SequenceLine>& block) {
                            const auto gen = generate_block(m, eos, block, o.max_new_tokens, o.suppress_eos);
                            for (std::size_t i = 0; i < block.size(); ++i)
                              out.stream() << nlohmann::json{{"ids", block[i].ids}, {"generated", gen[i]}}.dump() << '\n';
                            n_seq += block.size();
                            progress.advance(block.size());
                          });
  progress.finish();
  out.close();
  if (o.io.output != "-")
    std::fprintf(stderr, "generate: %llu sequences -> %s\n", static_cast<unsigned long long>(n_seq),
                 o.io.output.c_str());
  return 0;
}

}  // namespace pythia::harness

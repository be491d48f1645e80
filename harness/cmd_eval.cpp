// pythia-harness eval: lm-evaluation-harness tasks on one checkpoint (eval/eval_job.h).
#include <boost/program_options.hpp>
#include <cstdio>

#include "data/error.h"
#include "harness/cli_util.h"
#include "harness/compute_option.h"
#include "harness/commands.h"
#include "eval/eval_job.h"
#include "harness/eval_flags.h"
#include "harness/model_options.h"
#include "harness/threading.h"
#include "model/tokenizer.h"
#include "results/output_layout.h"
#include "results/results_table.h"

namespace pythia::harness {
namespace po = boost::program_options;

int run_eval(const Args& args) {
  ModelOptions mo;
  EvalFlags o;
  std::string tokenizer_path;
  po::options_description desc(
      "Usage: pythia-harness eval --model M [--revision R] --tasks T1,T2,...|all [--limit N]\n"
      "                           [--data-dir D] [--output DIR] [--log-samples]\n"
      "                           [--format lm-eval|pythia-v0 [--published-names]]\n"
      "                           [--bootstrap-iters N] [--threads T]\n\n"
      "Runs lm-evaluation-harness tasks (lambada_openai, piqa, winogrande, arc_easy,\n"
      "arc_challenge, sciq, wikitext) zero-shot on a GPT-NeoX checkpoint in fp32 on CPU, with\n"
      "lm-eval v0.4's prompts, tokenization (joint context+continuation encoding, no BOS, left\n"
      "truncation to 2048+1 tokens), log-likelihoods over the full logit width, rolling windows,\n"
      "metrics and standard errors (bootstrap bit-exact with Python's random). Numbers do not\n"
      "depend on --threads. Writes OUTPUT/<model>/<revision>/results.json (with --format pythia-v0\n"
      "--published-names: <size>[-Kshot]_step<N>.json, as in Pythia's evals/) and prints lm-eval's\n"
      "summary table; progress and ETA on stderr.\n\nOptions");
  desc.add_options()("help,h", "this help");
  add_model_options(desc, mo);
  desc.add_options()("tokenizer", po::value(&tokenizer_path),
                     "tokenizer.json (plain or .gz) of the GPT-NeoX-20B tokenizer (default: the "
                     "model folder's tokenizer.json)");
  add_eval_options(desc, o);
  std::string compute = "fp32";
  add_compute_option(desc, compute,
                     "For eval, bf16 numbers differ from fp32 within a measured tolerance (like HF "
                     "with a bf16 dtype; model/README.md) and results.json says compute=bf16");
  if (!parse_or_help(args, desc)) return 0;
  if (mo.threads < 0) throw UsageError("--threads must be >= 0");
  const model::Compute compute_kind = parse_compute_flag(compute);
  eval::EvalPlan plan = to_eval_plan(o);  // every flag checked before the model loads
  plan.compute = model::compute_name(compute_kind);
  const ThreadSetup threads(mo.threads);
  model::Workload work = eval::EvalPlan::workload(threads.threads());
  work.bf16_copies = compute_kind == model::Compute::kBf16;
  LoadedModel lm = load_model_from_options(mo, work);
  if (compute_kind != model::Compute::kFp32) lm.model = with_compute_checked(lm, compute_kind);
  const model::Tokenizer tok = model::Tokenizer::from_file(
      tokenizer_path.empty() ? model::Tokenizer::locate(lm.dir) : std::filesystem::path(tokenizer_path));
  const results::EvalRun run = eval::run_eval_job(*lm.model, tok, lm.name, lm.revision, plan, &lm.identity);
  std::printf("%s (%s), limit: %s, num_fewshot: %d, threads: %d\n", lm.name.c_str(),
              run.config.value("model_args", std::string()).c_str(),
              plan.limit ? std::to_string(*plan.limit).c_str() : "None", plan.num_fewshot, threads.threads());
  std::printf("%s", results::format_results_table(run).c_str());
  const int shots = plan.format == results::ResultsLayout::kPythiaV0 ? results::v03_num_fewshot(run) : 0;
  std::printf("-> %s\n", (results::run_dir(plan.output, lm.name, lm.revision) /
                          plan.results_file_name(lm.name, lm.revision, shots)).c_str());
  return 0;
}

}  // namespace pythia::harness

// `pythia-harness sweep`: eval and/or memorization for each checkpoint of a model, loading each
// checkpoint once (harness/sweep.h). The eval flags are those of `eval` (harness/eval_job.h) and
// the memorization flags those of `memorize` (harness/memorize_job.h), with the same meaning.
// Without --model it runs the embedded default on the bundled fixtures (kDefault* below).
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "data/error.h"
#include "harness/commands.h"
#include "harness/eval_job.h"
#include "harness/memorize_job.h"
#include "harness/model_options.h"
#include "harness/progress.h"
#include "harness/sweep.h"
#include "harness/threading.h"
#include "model/gpt_neox.h"
#include "model/model_resolver.h"
#include "model/tokenizer.h"

#ifndef PYTHIA_DEFAULT_FIXTURES_DIR
#error "harness/CMakeLists.txt defines PYTHIA_DEFAULT_FIXTURES_DIR (the bundled tests/fixtures)"
#endif

namespace pythia::harness {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;

// The embedded default (README quick start): every bundled mini-pythia checkpoint, the seven tasks
// on their first 200 documents, and the memorization scan of the bundled mini-pile memmap (16
// rows per step, as the fixture model was trained). About a minute on two cores.
const fs::path kFixtures = PYTHIA_DEFAULT_FIXTURES_DIR;
constexpr const char* kDefaultTasks = "all";
constexpr std::int64_t kDefaultLimit = 200;
constexpr std::int64_t kDefaultSequencesPerStep = 16;
constexpr const char* kDefaultOutput = "out";

const char* const kUsage =
    "Usage: pythia-harness sweep [--model M] [--revisions R1,R2,...|all] [--tasks T1,T2,...]\n"
    "                            [--memorize --data PREFIX] [--output DIR] [eval/memorize flags]\n"
    "\n"
    "Runs `eval` (when --tasks is given) and/or `memorize` (with --memorize) on every listed\n"
    "checkpoint, loading each checkpoint once. Results go to DIR/<model>/<revision>/ exactly as\n"
    "`eval` and `memorize` write them, plus sweep_complete.json, written last: a re-run with the\n"
    "same arguments skips complete checkpoints, so a killed sweep resumes. A failing checkpoint\n"
    "is reported and the others still run; the exit status is then 1 (a bad command line is\n"
    "refused up front with 2). `pythia-harness report DIR` plots the tree.\n"
    "\n"
    "Without --model: the embedded default on the bundled fixtures -- model\n"
    "tests/fixtures/mini-pythia (all local revisions), all seven tasks with --limit 200 and\n"
    "--data-dir tests/fixtures/tasks, memorization of\n"
    "tests/fixtures/mini-pile/document with --sequences-per-step 16, tokenizer\n"
    "tests/fixtures/tokenizer/20B_tokenizer.json.gz, output `out`. Flags given explicitly win.\n"
    "\n"
    "Sweep options";

// No abbreviated flags: with three option groups, "--memorize" must not be taken as the memorize
// group's "--memorized-only".
constexpr int kStyle = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;

std::set<std::string> unrecognized(const po::parsed_options& parsed) {
  const auto v = po::collect_unrecognized(parsed.options, po::exclude_positional);
  return {v.begin(), v.end()};
}

}  // namespace

int run_sweep(const Args& args) {
  ModelOptions mo;
  EvalOptions eo;
  MemorizeOptions mem;
  std::string revisions_spec, tokenizer_path;
  bool memorize = false, no_eval = false;

  po::options_description sweep_desc(kUsage);
  sweep_desc.add_options()("help,h", "print this help");
  add_model_options(sweep_desc, mo);
  sweep_desc.add_options()
      ("revisions", po::value(&revisions_spec),
       "comma-separated revisions (step0,step1000,...) or `all` = every revision available "
       "locally (default: all; a plain checkpoint folder has one, its own)")
      ("memorize", po::bool_switch(&memorize), "run the memorization scan on each checkpoint (needs --data)")
      ("no-eval", po::bool_switch(&no_eval),
       "do not run eval (useful with the embedded default; otherwise eval runs only when --tasks "
       "is given)")
      ("tokenizer", po::value(&tokenizer_path),
       "tokenizer.json (plain or .gz) for eval when the checkpoints have none (default: "
       "<checkpoint>/tokenizer.json)");
  po::options_description eval_desc("Eval options (as `pythia-harness eval`)");
  add_eval_options(eval_desc, eo);
  po::options_description mem_desc("Memorization options (as `pythia-harness memorize`; with --memorize)");
  add_memorize_options(mem_desc, mem);

  // Each group parses the whole command line; a flag unknown to all three is an error.
  po::variables_map vs, ve, vm;
  const auto ps = po::command_line_parser(args).options(sweep_desc).style(kStyle).allow_unregistered().run();
  const auto pe = po::command_line_parser(args).options(eval_desc).style(kStyle).allow_unregistered().run();
  const auto pm = po::command_line_parser(args).options(mem_desc).style(kStyle).allow_unregistered().run();
  po::store(ps, vs);
  po::store(pe, ve);
  po::store(pm, vm);
  if (vs.count("help")) {
    std::cout << sweep_desc << "\n" << eval_desc << "\n" << mem_desc << "\n";
    return 0;
  }
  {
    const auto us = unrecognized(ps), ue = unrecognized(pe), um = unrecognized(pm);
    for (const std::string& a : us) {
      if (ue.count(a) && um.count(a)) throw UsageError("unknown option or argument '" + a + "'");
    }
  }
  po::notify(vs);
  const bool embedded_default = !vs.count("model");
  if (embedded_default) {
    mo.model = (kFixtures / "mini-pythia").string();
    memorize = true;
  }
  auto defaulted = [](const po::variables_map& v, const char* name) {
    return !v.count(name) || v[name].defaulted();
  };
  if (embedded_default) {
    // Apply the default's settings to flags the user did not give, then run the notifiers.
    std::vector<std::string> extra;
    if (defaulted(ve, "tasks") && !no_eval) extra.insert(extra.end(), {"--tasks", kDefaultTasks});
    if (defaulted(ve, "limit")) extra.insert(extra.end(), {"--limit", std::to_string(kDefaultLimit)});
    if (!ve.count("data-dir")) extra.insert(extra.end(), {"--data-dir", (kFixtures / "tasks").string()});
    if (!vm.count("data")) extra.insert(extra.end(), {"--data", (kFixtures / "mini-pile" / "document").string()});
    if (defaulted(vm, "sequences-per-step")) {
      extra.insert(extra.end(), {"--sequences-per-step", std::to_string(kDefaultSequencesPerStep)});
    }
    if (defaulted(vm, "output") && defaulted(ve, "output")) extra.insert(extra.end(), {"--output", kDefaultOutput});
    if (!vs.count("tokenizer")) tokenizer_path = (kFixtures / "tokenizer" / "20B_tokenizer.json.gz").string();
    Args all_args = args;
    all_args.insert(all_args.end(), extra.begin(), extra.end());
    ve.clear();
    vm.clear();
    po::store(po::command_line_parser(all_args).options(eval_desc).style(kStyle).allow_unregistered().run(), ve);
    po::store(po::command_line_parser(all_args).options(mem_desc).style(kStyle).allow_unregistered().run(), vm);
  }
  const bool run_eval = !no_eval && ve.count("tasks") && !ve["tasks"].defaulted();
  po::notify(ve);
  if (memorize) po::notify(vm);
  if (!run_eval && !memorize) throw UsageError("nothing to do: give --tasks and/or --memorize --data PREFIX");
  if (memorize && vm.count("step")) throw UsageError("--step is per checkpoint; sweep takes it from each revision name");

  const std::vector<std::string> available = model::list_revisions(mo.model);
  std::vector<std::string> revisions;
  if (!mo.revision.empty()) {
    if (!revisions_spec.empty()) throw UsageError("give --revisions or --revision, not both");
    revisions_spec = mo.revision;  // one checkpoint
  }
  if (revisions_spec.empty() || revisions_spec == "all") {
    revisions = available.empty() ? std::vector<std::string>{""} : available;
  } else {
    revisions = parse_revision_list(revisions_spec, available);
  }

  ThreadSetup threads(mo.threads);
  SweepPlan plan;
  plan.revisions = revisions;
  plan.output = memorize ? fs::path(mem.output) : fs::path(eo.output);
  {
    const model::ResolvedModel first = model::resolve_model(mo.model, revisions.front());
    plan.model_name = first.name;
  }
  // The signature: the arguments that can change results (not where they go, not --threads).
  std::vector<std::string> ordered;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--output" || a == "-o" || a == "--threads") {
      ++i;
      continue;
    }
    if (a.rfind("--output=", 0) == 0 || a.rfind("--threads=", 0) == 0) continue;
    ordered.push_back(a);
  }
  plan.signature = {{"model", plan.model_name},
                    {"eval", run_eval},
                    {"memorize", memorize},
                    {"arguments", ordered}};
  std::shared_ptr<const model::Tokenizer> tokenizer;
  plan.load = [&](const std::string& revision) {
    ModelOptions one = mo;
    one.revision = revision;
    LoadedModel loaded = load_model_from_options(one);
    if (run_eval && !tokenizer) {
      const fs::path tok = tokenizer_path.empty() ? model::Tokenizer::locate(loaded.dir) : fs::path(tokenizer_path);
      tokenizer = std::make_shared<const model::Tokenizer>(model::Tokenizer::from_file(tok));
    }
    SweepCheckpoint c;
    c.model_name = plan.model_name;
    c.revision = revision;
    c.lm = std::shared_ptr<const model::CausalLm>(std::move(loaded.model));
    return c;
  };
  if (run_eval) {
    plan.jobs.push_back({"eval", [&](const SweepCheckpoint& c) {
                           run_eval_job(*c.lm, *tokenizer, c.model_name, c.revision, eo);
                         }});
  }
  if (memorize) {
    plan.jobs.push_back({"memorize", [&](const SweepCheckpoint& c) {
                           run_memorize_job(*c.lm, c.model_name, c.revision, mem);
                         }});
  }
  std::fprintf(stderr, "sweep: %s, %zu checkpoint(s), jobs:%s%s -> %s\n", plan.model_name.c_str(),
               revisions.size(), run_eval ? " eval" : "", memorize ? " memorize" : "",
               plan.output.string().c_str());
  const SweepReport report = run_sweep(plan);
  std::fprintf(stderr, "sweep: %zu run, %zu already complete, %zu failed in %s\n",
               report.completed.size(), report.skipped.size(), report.failed.size(),
               format_duration(report.seconds).c_str());
  for (std::size_t i = 0; i < report.failed.size(); ++i) {
    std::fprintf(stderr, "  failed %s: %s\n", report.failed[i].c_str(), report.errors[i].c_str());
  }
  return report.failed.empty() ? static_cast<int>(ExitCode::kOk) : static_cast<int>(ExitCode::kFailure);
}

}  // namespace pythia::harness

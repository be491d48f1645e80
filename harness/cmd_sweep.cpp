// `pythia-harness sweep`: eval and/or memorization for each checkpoint of a model, loading each
// checkpoint once (harness/sweep.h). The eval flags are those of `eval` (eval/eval_job.h) and
// the memorization flags those of `memorize` (memorization/scan_job.h), with the same meaning.
// Without --model it runs the embedded default on the bundled fixtures (kDefault* below).
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "data/error.h"
#include "harness/bundled_fixtures.h"
#include "harness/commands.h"
#include "eval/eval_job.h"
#include "harness/eval_flags.h"
#include "harness/memorize_flags.h"
#include "memorization/scan_job.h"
#include "results/output_layout.h"
#include "harness/model_options.h"
#include "data/progress.h"
#include "harness/sweep.h"
#include "harness/threading.h"
#include "model/gpt_neox.h"
#include "model/model_resolver.h"
#include "model/tokenizer.h"


namespace pythia::harness {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;

// The embedded default (README quick start): every bundled mini-pythia checkpoint, the seven
// original tasks (not wsc/logiqa, added later: the committed baseline results/baseline holds these
// seven) on their first 200 documents, and the memorization scan of the bundled mini-pile memmap (16
// rows per step, as the fixture model was trained). About a minute on two cores.
constexpr const char* kDefaultTasks =
    "lambada_openai,piqa,winogrande,arc_easy,arc_challenge,sciq,wikitext";
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
    "tests/fixtures/mini-pythia (all local revisions), the seven tasks lambada_openai, piqa,\n"
    "winogrande, arc_easy, arc_challenge, sciq, wikitext with --limit 200 and\n"
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

// The options of one sweep, bound from the command line.
struct SweepFlags {
  ModelOptions model;
  EvalFlags eval;
  MemorizeFlags memorize;
  std::string revisions, tokenizer;
  bool run_memorize = false, no_eval = false;
};

bool defaulted(const po::variables_map& v, const char* name) { return !v.count(name) || v[name].defaulted(); }

// The embedded default's settings for every flag the user did not give.
void apply_embedded_default(SweepFlags& f, const po::variables_map& ve, const po::variables_map& vm,
                            bool tokenizer_given) {
  const fs::path fixtures = bundled_fixtures_dir();
  f.model.model = (fixtures / "mini-pythia").string();
  f.run_memorize = true;
  if (defaulted(ve, "tasks")) f.eval.tasks = kDefaultTasks;
  if (defaulted(ve, "limit")) f.eval.limit = kDefaultLimit;
  if (!ve.count("data-dir")) f.eval.data_dir = (fixtures / "tasks").string();
  if (!vm.count("data")) f.memorize.data = (fixtures / "mini-pile" / "document").string();
  if (defaulted(vm, "sequences-per-step")) f.memorize.sequences_per_step = kDefaultSequencesPerStep;
  if (defaulted(vm, "output") && defaulted(ve, "output")) f.eval.output = f.memorize.output = kDefaultOutput;
  if (!tokenizer_given) f.tokenizer = (fixtures / "tokenizer" / "20B_tokenizer.json.gz").string();
}

}  // namespace

int run_sweep(const Args& args) {
  SweepFlags f;
  po::options_description sweep_desc(kUsage);
  sweep_desc.add_options()("help,h", "print this help");
  add_model_options(sweep_desc, f.model);
  sweep_desc.add_options()
      ("revisions", po::value(&f.revisions),
       "comma-separated revisions (step0,step1000,...) or `all` = every revision available "
       "locally (default: all; a plain checkpoint folder has one, its own)")
      ("memorize", po::bool_switch(&f.run_memorize), "run the memorization scan on each checkpoint (needs --data)")
      ("no-eval", po::bool_switch(&f.no_eval),
       "do not run eval (useful with the embedded default; otherwise eval runs only when --tasks "
       "is given)")
      ("tokenizer", po::value(&f.tokenizer),
       "tokenizer.json (plain or .gz) for eval when the checkpoints have none (default: "
       "<checkpoint>/tokenizer.json)");
  po::options_description eval_desc("Eval options (as `pythia-harness eval`)");
  add_eval_options(eval_desc, f.eval);
  po::options_description mem_desc("Memorization options (as `pythia-harness memorize`; with --memorize)");
  add_memorize_options(mem_desc, f.memorize);

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
  po::notify(ve);
  po::notify(vm);
  const bool embedded_default = !vs.count("model");
  if (embedded_default) apply_embedded_default(f, ve, vm, vs.count("tokenizer") > 0);
  const bool run_eval = !f.no_eval && (embedded_default || !defaulted(ve, "tasks"));
  if (!run_eval && !f.run_memorize) throw UsageError("nothing to do: give --tasks and/or --memorize --data PREFIX");
  if (f.run_memorize && vm.count("step")) throw UsageError("--step is per checkpoint; sweep takes it from each revision name");
  if (f.model.threads < 0) throw UsageError("--threads must be >= 0");
  // Every value is checked here, before any checkpoint loads: the names of both groups always
  // (a bad --format or --eod-policy is a bad command line even for a job that does not run),
  // the whole plan of each job that runs.
  results::parse_results_layout(f.eval.format);
  memorization::parse_eod_policy(f.memorize.eod_policy);
  memorization::parse_checksums(f.memorize.checksums);
  std::optional<eval::EvalPlan> eval_plan;
  std::optional<memorization::ScanPlan> scan_plan;
  if (run_eval) eval_plan = to_eval_plan(f.eval);
  if (f.run_memorize) scan_plan = to_scan_plan(f.memorize);

  const std::vector<std::string> available = model::list_revisions(f.model.model);
  std::string revisions_spec = f.revisions;
  if (!f.model.revision.empty()) {
    if (!revisions_spec.empty()) throw UsageError("give --revisions or --revision, not both");
    revisions_spec = f.model.revision;  // one checkpoint
  }
  std::vector<std::string> revisions;
  if (revisions_spec.empty() || revisions_spec == "all") {
    revisions = available.empty() ? std::vector<std::string>{""} : available;
  } else {
    revisions = parse_revision_list(revisions_spec, available);
  }

  ThreadSetup threads(f.model.threads);
  SweepPlan plan;
  plan.revisions = revisions;
  plan.output = scan_plan ? scan_plan->output : eval_plan->output;
  plan.model_name = model::resolve_model(f.model.model, revisions.front()).name;
  // The signature: what each job computes (its plan's identity), never where it goes, the flag
  // order or --threads, so a re-run with the same settings resumes.
  plan.signature = {{"model", plan.model_name},
                    {"eval", eval_plan ? nlohmann::json(eval_plan->to_json()) : nlohmann::json(nullptr)},
                    {"memorize", scan_plan ? nlohmann::json(scan_plan->to_json()) : nlohmann::json(nullptr)}};
  std::shared_ptr<const model::Tokenizer> tokenizer;
  plan.load = [&](const std::string& revision) {
    ModelOptions one = f.model;
    one.revision = revision;
    // The memory check counts the larger KV working set of the two jobs (they run one after the
    // other on a checkpoint); an eval's caches are counted at 2048 positions for the comparison.
    model::Workload work;
    if (eval_plan) work = eval::EvalPlan::workload(threads.threads());
    if (scan_plan) {
      const model::Workload m = scan_plan->workload(threads.threads());
      const auto size = [](const model::Workload& w) { return w.sequences * (w.positions > 0 ? w.positions : 2048); };
      if (!eval_plan || size(m) > size(work)) work = m;
    }
    LoadedModel loaded = load_model_from_options(one, work);
    if (eval_plan && !tokenizer) {
      const fs::path tok = f.tokenizer.empty() ? model::Tokenizer::locate(loaded.dir) : fs::path(f.tokenizer);
      tokenizer = std::make_shared<const model::Tokenizer>(model::Tokenizer::from_file(tok));
    }
    SweepCheckpoint c;
    c.model_name = plan.model_name;
    c.revision = revision;
    c.lm = std::shared_ptr<const model::CausalLm>(std::move(loaded.model));
    c.identity = std::move(loaded.identity);
    return c;
  };
  if (eval_plan) {
    plan.jobs.push_back({"eval", [&](const SweepCheckpoint& c) {
                           eval::run_eval_job(*c.lm, *tokenizer, c.model_name, c.revision, *eval_plan,
                                              c.identity ? &*c.identity : nullptr);
                         }});
  }
  if (scan_plan) {
    plan.jobs.push_back({"memorize", [&](const SweepCheckpoint& c) {
                           memorization::run_memorize_job(*c.lm, c.model_name, c.revision, *scan_plan,
                                                          c.identity ? &*c.identity : nullptr);
                         }});
  }
  std::fprintf(stderr, "sweep: %s, %zu checkpoint(s), jobs:%s%s -> %s\n", plan.model_name.c_str(),
               revisions.size(), eval_plan ? " eval" : "", scan_plan ? " memorize" : "",
               plan.output.string().c_str());
  const SweepReport report = run_sweep(plan);
  std::fprintf(stderr, "sweep: %zu run, %zu already complete, %zu failed in %s\n",
               report.completed.size(), report.skipped.size(), report.failed.size(),
               data::format_duration(report.seconds).c_str());
  for (const auto& [rev, same] : report.identical_weights) {
    std::string list;
    for (const auto& r : same) list += (list.empty() ? "" : ", ") + r;
    std::fprintf(stderr, "  warning: %s has the same weights as %s\n", rev.c_str(), list.c_str());
  }
  for (std::size_t i = 0; i < report.failed.size(); ++i) {
    std::fprintf(stderr, "  failed %s: %s\n", report.failed[i].c_str(), report.errors[i].c_str());
  }
  return report.failed.empty() ? static_cast<int>(ExitCode::kOk) : static_cast<int>(ExitCode::kFailure);
}

}  // namespace pythia::harness

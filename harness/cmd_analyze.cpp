// pythia-harness analyze DIR --output analysis.json: the cross-checkpoint memorized-set analysis
// of a sweep tree (memorization/cross_checkpoint.h).
#include <boost/program_options.hpp>
#include <cstdio>

#include "data/atomic_file.h"
#include "data/error.h"
#include "harness/cli_util.h"
#include "harness/commands.h"
#include "harness/threading.h"
#include "memorization/analysis_memory.h"
#include "memorization/cross_checkpoint.h"
#include "results/analysis_html.h"
#include "results/memorization_file.h"

namespace pythia::harness {
namespace po = boost::program_options;

int run_analyze(const Args& args) {
  std::string dir, output;
  double min_score = 1.0;
  std::uint64_t block_rows = 1u << 20;
  int threads = 0;
  po::options_description desc(
      "Usage: pythia-harness analyze DIR --output analysis.json\n\n"
      "Cross-checkpoint memorization analysis of a results tree (the output of `sweep --memorize`\n"
      "or of several `memorize` runs: DIR/<model>/<revision>/memorization.json and\n"
      "memorization_scores.csv.gz). Scans over the same data (same data-file SHA-256, else the same\n"
      "memmap name) form a group; for every pair A, B of scans in a group (A before B by model,\n"
      "then step) the JSON gives n_a = |A|, n_b = |B|, n_ab = |A and B|, precision = n_ab/n_a (A\n"
      "predicting B), recall = n_ab/n_b, gained = |B \\ A|, forgotten = |A \\ B|, and under \"common\"\n"
      "the same over the rows both scans covered; per model a \"trajectory\": memorized rows and rate\n"
      "per checkpoint with the rows gained, kept and forgotten since the previous one. Precision or\n"
      "recall with a zero denominator is null. Counts are exact and independent of --threads.\n"
      "Memory does not grow with the number of memorized rows (score files are streamed in index\n"
      "order): about k * (block-rows * 0.19 bytes + 200 KiB) for the row bitsets of k scans, plus\n"
      "the JSON document, which holds k(k-1)/2 pairs per group (about 3.8 KiB each with its text,\n"
      "6.8 KiB with --html): 1,232 scans in one group are ~2.9 GB. The estimate is checked before\n"
      "anything is read against the memory available (MemAvailable, cgroup limits); a tree that\n"
      "would not fit is refused (PYTHIA_SKIP_MEMORY_CHECK=1 to try anyway).\n\nOptions");
  desc.add_options()("help,h", "this help")
      ("output,o", po::value(&output), "the analysis JSON to write (atomically); required")
      ("min-score", po::value(&min_score)->default_value(1.0),
       "a row counts as memorized when its score >= this (1 = all 32 tokens, the paper's definition;\n"
       "other values need the scores CSV)")
      ("block-rows", po::value(&block_rows)->default_value(1u << 20),
       "rows per block of the bitset merge (a multiple of 64); memory grows with it")
      ("dedup-counts", po::value<std::string>(),
       "dedup_counts.csv.gz of `dedup-count` over the same data: adds per checkpoint \"by_duplicates\",\n"
       "rows and memorized rows per duplicate-count bucket (1, 2, 3-4, 5-8, ...)")
      ("html", po::value<std::string>(), "also write a self-contained HTML page of the analysis (heatmap,\n"
       "rate and gained/forgotten against step, rate by duplicate count); `report DIR` shows the same\n"
       "section when the analysis is saved as DIR/analysis.json")
      ("threads", po::value(&threads)->default_value(0), "worker threads (0: all cores)");
  po::options_description hidden;
  hidden.add_options()("dir", po::value(&dir), "the results tree");
  po::positional_options_description pos;
  pos.add("dir", 1);
  const auto vm = parse_or_help(args, desc, &pos, &hidden);
  if (!vm) return 0;
  if (dir.empty()) throw UsageError("give the results tree: pythia-harness analyze DIR --output FILE");
  if (output.empty()) throw UsageError("--output FILE is required");
  if (!(min_score > 0.0 && min_score <= 1.0)) throw UsageError("--min-score must be in (0, 1]");
  if (block_rows == 0 || block_rows % 64 != 0) throw UsageError("--block-rows must be a positive multiple of 64");
  ThreadSetup threading(threads);
  memorization::AnalysisOptions opt;
  opt.min_score = min_score;
  opt.block_rows = block_rows;
  if (vm->count("dedup-counts")) opt.dedup_counts = (*vm)["dedup-counts"].as<std::string>();
  const auto scans = memorization::find_scans(dir);
  if (scans.empty()) throw DataError(dir, "holds no memorization.json (is it a sweep or memorize output?)");
  const memorization::AnalysisMemory memory =
      memorization::estimate_analysis_memory(memorization::group_sizes(scans), opt, vm->count("html") > 0);
  memorization::check_memory_for_analysis(dir, memory);
  const auto doc = memorization::analyze_scans(scans, opt);
  data::write_file_atomic(output, results::pretty_json(doc));
  if (vm->count("html")) {
    const std::string html = (*vm)["html"].as<std::string>();
    data::write_file_atomic(html, results::render_analysis_html(nlohmann::json::parse(doc.dump()), output));
  }
  std::size_t pairs = 0;
  for (const auto& g : doc["groups"]) pairs += g["pairs"].size();
  std::printf("analyzed %zu scans in %zu data group(s), %zu pairs (memory estimate %.1f MiB) -> %s\n",
              scans.size(), doc["groups"].size(), pairs, static_cast<double>(memory.total()) / 1048576.0,
              output.c_str());
  return 0;
}

}  // namespace pythia::harness

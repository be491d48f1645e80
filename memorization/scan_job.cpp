// See scan_job.h: run_memorize_job as five named steps.
#include "memorization/scan_job.h"

#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <thread>

#include "data/atomic_file.h"
#include "data/checkpoint_step.h"
#include "data/error.h"
#include "data/gzip_stream.h"
#include "data/indexed_dataset.h"
#include "data/progress.h"
#include "data/sha256.h"
#include "memorization/bf16_screen.h"
#include "memorization/data_checksums.h"
#include "memorization/journal.h"
#include "memorization/scanner.h"
#include "memorization/token_stats.h"
#include "model/gemm.h"
#include "results/memorization_file.h"
#include "results/memorized_evals.h"
#include "results/output_layout.h"

namespace pythia::memorization {
namespace fs = std::filesystem;
using J = nlohmann::ordered_json;
using results::ScanMeta;
using results::ScanSummary;

namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

// Test hook: milliseconds to sleep after journalling each block, so a test can kill the process
// mid-scan. Not a user option.
int test_block_delay_ms() {
  const char* v = std::getenv("PYTHIA_MEMORIZE_TEST_BLOCK_DELAY_MS");
  return v == nullptr ? 0 : std::atoi(v);
}

// Step 1: which rows, which slice, which folder.
struct ScanTarget {
  std::string revision;               // "main" for none
  std::optional<std::int64_t> step;
  std::uint64_t begin = 0, end = 0;   // the whole range
  std::uint64_t lo = 0, hi = 0;       // this process's slice
  fs::path out_dir;
};

ScanTarget resolve_target(const model::CausalLm& lm, const std::string& model_name,
                          const std::string& revision, const ScanPlan& p, const data::IndexedDataset& ds) {
  if (p.prefix_len + p.continuation_len - 1 > lm.max_positions()) {
    throw UsageError("--prefix-len + --continuation-len - 1 must fit the model's " +
                     std::to_string(lm.max_positions()) + " positions");
  }
  ScanTarget t;
  t.revision = results::revision_folder(revision);
  t.step = p.step ? p.step : data::step_of_revision(t.revision);
  if (t.step) std::tie(t.begin, t.end) = rows_of_step(*t.step, p.sequences_per_step);
  if (p.start) {
    t.begin = *p.start;
    t.end = *p.end;
  } else if (!t.step) {
    throw UsageError("revision '" + t.revision + "' is not named stepN: give --step N or --start/--end");
  }
  if (t.end > ds.size()) {
    throw DataError(ds.idx_path().string(), "rows [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                                                ") reach past the end of the dataset (" +
                                                std::to_string(ds.size()) + " rows)");
  }
  std::tie(t.lo, t.hi) = p.shard ? shard_range(t.begin, t.end, *p.shard) : std::pair{t.begin, t.end};
  if (!p.any_layout) ds.check_preshuffled(t.lo, t.hi);
  t.out_dir = results::run_dir(p.output, model_name, revision);
  if (p.shard) t.out_dir /= shard_dir_name(*p.shard);
  return t;
}

// Step 2: what memorization.json records, and the configuration a resumed run must repeat
// (threads and batch size do not change results, so they are not part of it).
ScanMeta describe_scan(const model::CausalLm& lm, const std::string& model_name, const ScanTarget& t,
                       const ScanPlan& p, const data::IndexedDataset& ds) {
  ScanMeta meta;
  meta.model = model_name;
  meta.revision = t.revision;
  meta.step = t.step;
  meta.data = describe_data(ds, p, !p.any_layout);
  meta.row_begin = t.lo;  // a shard records its slice; `merge` writes the union
  meta.row_end = t.hi;
  meta.sequences_per_step = static_cast<std::uint64_t>(p.sequences_per_step);
  meta.prefix_len = p.prefix_len;
  meta.continuation_len = p.continuation_len;
  meta.eod_policy = to_string(p.eod_policy);
  meta.exact_score = p.score_mode == ScoreMode::kExact;
  meta.tau = p.tau;
  meta.backend = lm.backend();
  meta.extended_csv = p.extended_csv;
  meta.token_stats = p.token_stats;
  meta.memorized_evals = p.memorized_evals;
  return meta;
}

J resume_config(const ScanMeta& meta, const ScanTarget& t, const ScanPlan& p) {
  J c = {{"model", meta.model},          {"revision", meta.revision},
          {"step", t.step ? J(*t.step) : J(nullptr)}, {"data", meta.data},
          {"row_range", J::array({t.begin, t.end})}, {"slice", J::array({t.lo, t.hi})},
          {"shard", p.shard ? J(shard_dir_name(*p.shard)) : J(nullptr)},
          {"sequences_per_step", p.sequences_per_step}, {"prefix_len", p.prefix_len},
          {"continuation_len", p.continuation_len}, {"eod_policy", to_string(p.eod_policy)},
          {"score_mode", to_string(p.score_mode)},
          {"tau", p.tau},            {"extended_csv", p.extended_csv}};
  if (p.token_stats) c["token_stats"] = true;
  if (p.memorized_evals) c["memorized_evals"] = true;
  if (meta.identity) c["weights_sha256"] = meta.identity->weights_sha256;
  return c;
}

std::string sha256_hex(const std::string& text) {
  data::Sha256 h;
  h.update({reinterpret_cast<const unsigned char*>(text.data()), text.size()});
  return h.hex_digest();
}

void fill_summary(MemorizeSummary& out, const ScanSummary& s, std::optional<double> mean) {
  out.rows_scanned = s.rows_scanned;
  out.rows_memorized = s.rows_memorized;
  out.rows_nan = s.rows_nan;
  out.rows_near_tie = s.near_tie.size();
  out.mean_score = mean;
}

// Step 3: a finished folder of the same configuration is done; another one is refused.
bool finished_result(const fs::path& out_dir, const std::string& config_sha, MemorizeSummary& summary) {
  const fs::path json_path = out_dir / results::kMemorizationJson;
  if (!fs::exists(json_path) || fs::exists(out_dir / kJournalFile)) return false;
  const J done = results::read_memorization_document(json_path);
  const bool same = done.contains("run") && done["run"].is_object() &&
                    done["run"].value("config_sha256", "") == config_sha;
  if (!same) {
    throw UsageError(out_dir.string() + " already holds a memorization result of another configuration; "
                     "remove it or choose another --output");
  }
  const ScanSummary s = results::summary_from_json(done, json_path.string());
  fill_summary(summary, s, done["mean_score"].is_number() ? std::optional<double>(done["mean_score"].get<double>())
                                                          : std::nullopt);
  summary.already_complete = true;
  return true;
}

// Row blocks of at most `batch` rows covering [lo, hi) minus the journalled blocks.
std::vector<std::pair<std::uint64_t, std::uint64_t>> missing_blocks(
    std::uint64_t lo, std::uint64_t hi, std::vector<JournalBlock> done, std::uint64_t batch) {
  std::sort(done.begin(), done.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  auto add_gap = [&](std::uint64_t a, std::uint64_t b) {
    for (std::uint64_t s = a; s < b; s += batch) out.emplace_back(s, std::min(b, s + batch));
  };
  std::uint64_t cursor = lo;
  for (const auto& b : done) {
    if (b.first < lo || b.first + b.count > hi) {
      throw std::logic_error("journal block outside the scan range despite a matching configuration");
    }
    if (b.first > cursor) add_gap(cursor, b.first);
    cursor = std::max(cursor, b.first + b.count);
  }
  add_gap(cursor, hi);
  return out;
}

struct Block {
  std::uint64_t first = 0;
  std::vector<model::Token> windows;
  std::vector<std::uint64_t> indices;
  std::vector<RowScore> out;
  std::vector<TokenStat> stats;  // rows x L when token stats are on
};

// Reads rows [a, b) into a block, refusing tokens outside the model's vocabulary.
std::unique_ptr<Block> read_block(const data::IndexedDataset& ds, std::uint64_t a, std::uint64_t b, int W,
                                  int vocab_size) {
  auto blk = std::make_unique<Block>();
  blk->first = a;
  blk->windows.resize((b - a) * static_cast<std::size_t>(W));
  for (std::uint64_t i = a; i < b; ++i) {
    std::span<model::Token> w(blk->windows.data() + (i - a) * static_cast<std::size_t>(W),
                              static_cast<std::size_t>(W));
    ds.read_tokens(i, w);
    for (model::Token tok : w) {
      if (tok >= vocab_size) {
        throw DataError(ds.bin_paths().front().string(),
                        "row " + std::to_string(i) + " holds token id " + std::to_string(tok) +
                            ", outside the model's vocabulary (" + std::to_string(vocab_size) + ")");
      }
    }
    blk->indices.push_back(i);
  }
  blk->out.resize(b - a);
  return blk;
}

// Step 4: read -> score -> journal over the missing blocks. Returns the rows computed.
// Scanner: MemorizationScanner, or ScreenedScanner (bf16 screen + exact re-score).
template <typename Scanner>
std::uint64_t scan_rows(const Scanner& scanner, const data::IndexedDataset& ds,
                        MemorizationJournal& journal, const std::vector<std::pair<std::uint64_t, std::uint64_t>>& todo,
                        const std::string& label, bool show_progress, TokenStatsJournal* stats_journal) {
  const int W = scanner.config().window();
  const int vocab = scanner.vocab_size();
  const int threads = tbb::this_task_arena::max_concurrency();
  const int delay_ms = test_block_delay_ms();
  std::uint64_t todo_rows = 0, computed = 0;
  for (const auto& [a, b] : todo) todo_rows += b - a;
  data::Progress progress(label, todo_rows);
  if (!show_progress) progress.set_enabled(false);
  // The blocks in flight are owned here and the filters pass only slot numbers: oneTBB (2021.8)
  // does not destroy the items in flight when a filter throws (a journal write failing on a full
  // disk), so a shared_ptr<Block> passed between the filters leaked every block in flight
  // (LeakSanitizer, memorize_fault_test). Slot k is filled by the read filter, used by the score
  // filter and emptied by the write filter, one filter at a time; unwinding frees the rest.
  std::vector<std::unique_ptr<Block>> slots(todo.size());
  std::size_t next = 0;
  // TBB runs each serial_in_order stage one block at a time and returns from (or rethrows out of)
  // parallel_pipeline only after every stage call has ended, but it orders them inside libtbb,
  // where a ThreadSanitizer build cannot see it (tests/README.md, "tsan/"). The same order in C++
  // terms: one uncontended lock per serial stage (so reading and journaling still overlap; they
  // never wait), a release count of finished scoring calls, and `join`, which takes both locks and
  // reads the count once the pipeline has ended, also when a block's scoring threw (then TBB
  // skips the journaling stage of the blocks in flight).
  std::mutex read_order, write_order;
  std::atomic<std::uint64_t> scored{0};
  struct Join {
    // A constructor (not an aggregate): clang 14 has no parenthesized aggregate init for in_place.
    Join(std::mutex& r, std::mutex& w, std::atomic<std::uint64_t>& n) : read(r), write(w), scored(n) {}
    std::mutex& read;
    std::mutex& write;
    std::atomic<std::uint64_t>& scored;
    ~Join() {
      const std::scoped_lock order(read, write);
      (void)scored.load(std::memory_order_acquire);
    }
  };
  std::optional<Join> join(std::in_place, read_order, write_order, scored);
  tbb::parallel_pipeline(
      static_cast<std::size_t>(std::max(2, threads)),
      tbb::make_filter<void, std::size_t>(
          tbb::filter_mode::serial_in_order,
          [&](tbb::flow_control& fc) -> std::size_t {
            const std::lock_guard order(read_order);
            if (next == todo.size()) {
              fc.stop();
              return 0;
            }
            const auto [a, b] = todo[next];
            slots[next] = read_block(ds, a, b, W, vocab);
            return next++;
          }) &
          tbb::make_filter<std::size_t, std::size_t>(
              tbb::filter_mode::parallel,
              [&](std::size_t k) {
                struct Done {
                  std::atomic<std::uint64_t>& n;
                  ~Done() { n.fetch_add(1, std::memory_order_release); }
                } done{scored};
                Block& blk = *slots[k];
                if (stats_journal != nullptr) {
                  blk.stats.resize(blk.out.size() * static_cast<std::size_t>(scanner.config().continuation_len));
                }
                scanner.score(blk.windows, blk.indices, blk.out, true, blk.stats);
                blk.windows = {};
                return k;
              }) &
          tbb::make_filter<std::size_t, void>(
              tbb::filter_mode::serial_in_order, [&](std::size_t k) {
                const std::lock_guard order(write_order);
                const std::unique_ptr<Block> blk = std::move(slots[k]);
                // Stats first: every block the scan journal holds has its statistics.
                if (stats_journal != nullptr) stats_journal->append(blk->first, blk->stats);
                journal.append(blk->first, blk->out);
                progress.advance(blk->out.size());
                computed += blk->out.size();
                if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
              }));
  join.reset();  // before `computed` and the journals are read
  progress.finish();
  return computed;
}

// Step 5: the CSVs from the journal in row order; returns the summary for memorization.json.
ScanSummary write_scores(const MemorizationJournal& journal, const ScanMeta& meta, const ScanTarget& t,
                         const ScanPlan& p, const TokenStatsJournal* stats_journal) {
  auto blocks = journal.blocks();
  std::sort(blocks.begin(), blocks.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::uint64_t cursor = t.lo;
  for (const auto& b : blocks) {
    if (b.first != cursor) throw DataError(journal.path().string(), "journal does not tile the row range");
    cursor += b.count;
  }
  if (cursor != t.hi) throw DataError(journal.path().string(), "journal does not cover the row range");
  ScanSummary s(p.continuation_len);
  std::unique_ptr<data::AtomicGzipWriter> csv, ext;
  if (meta.exact_score) csv = std::make_unique<data::AtomicGzipWriter>(t.out_dir / results::kScoresCsv);
  if (p.extended_csv) {
    ext = std::make_unique<data::AtomicGzipWriter>(t.out_dir / results::kExtendedCsv);
    ext->write(results::extended_csv_header());
  }
  std::unique_ptr<TokenStatsFileWriter> stats;
  if (stats_journal != nullptr) {
    stats = std::make_unique<TokenStatsFileWriter>(t.out_dir / kTokenStatsFile, p.prefix_len, p.continuation_len,
                                                   t.lo, t.hi);
  }
  const std::size_t L = static_cast<std::size_t>(p.continuation_len);
  const std::uint64_t seen_end = t.step ? static_cast<std::uint64_t>(*t.step) * meta.sequences_per_step
                                        : ~std::uint64_t{0};
  for (const auto& b : blocks) {
    if (stats) {
      const std::vector<TokenStat> st = stats_journal->read(b.first, b.count);
      for (std::uint32_t i = 0; i < b.count; ++i) stats->add(b.first + i, std::span(st).subspan(i * L, L));
    }
    for (const RowScore& r : journal.read(b)) {
      const bool unseen = r.index >= seen_end;
      s.add(r, p.tau, unseen);
      if (csv) csv->write(results::csv_line(r, p.continuation_len));
      if (ext) ext->write(results::extended_csv_line(r, p.continuation_len, p.tau, unseen));
    }
  }
  if (csv) csv->commit();
  if (ext) ext->commit();
  if (stats) stats->commit();
  return s;
}

}  // namespace

MemorizeSummary run_memorize_job(const model::CausalLm& lm, const std::string& model_name,
                                 const std::string& revision, const ScanPlan& p,
                                 const results::ModelIdentity* identity, const model::CausalLm* exact) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string started = utc_now();
  p.validate();
  if (exact != nullptr && p.token_stats) {
    throw UsageError("--token-stats needs the fp32 logits of every position of every row; "
                     "it cannot be combined with --compute bf16 (use --compute fp32)");
  }
  const data::IndexedDataset ds(p.data);
  const ScanTarget t = resolve_target(lm, model_name, revision, p, ds);
  fs::create_directories(t.out_dir);
  ScanMeta meta = describe_scan(lm, model_name, t, p, ds);
  if (identity != nullptr) meta.identity = *identity;
  if (exact != nullptr) meta.backend = "screen: " + lm.backend() + "; exact re-score: " + exact->backend();
  const std::string config_text = resume_config(meta, t, p).dump();
  const std::string config_sha = sha256_hex(config_text);

  MemorizeSummary summary;
  summary.output_dir = t.out_dir;
  summary.row_begin = t.lo;
  summary.row_end = t.hi;
  if (finished_result(t.out_dir, config_sha, summary)) return summary;

  MemorizationJournal journal(t.out_dir / kJournalFile, config_text);
  for (const auto& e : fs::directory_iterator(t.out_dir)) {  // temporaries of a killed writer
    const std::string n = e.path().filename().string();
    if (n.rfind(".memorization", 0) == 0 && data::is_atomic_temp_name(n)) fs::remove(e.path());
  }
  summary.rows_resumed = journal.rows_done();
  const auto todo = missing_blocks(t.lo, t.hi, journal.blocks(), static_cast<std::uint64_t>(p.batch_size));

  ScanConfig scan;
  scan.prefix_len = p.prefix_len;
  scan.continuation_len = p.continuation_len;
  scan.eod_policy = p.eod_policy;
  scan.exact_score = p.score_mode == ScoreMode::kExact;
  // Staged teacher forcing (skips positions after a row's first mismatch) changes no result only
  // when logits do not depend on how a sequence is split into forward() calls. CausalLm does not
  // promise that in general; models that do say so (GptNeox: tests/model/split_invariance_test.cpp).
  if (lm.forward_is_split_invariant()) scan.stage_ends = default_stage_ends(p.prefix_len, p.continuation_len);
  const std::string label = "memorize " + model_name + "/" + t.revision;
  J screen_json = nullptr;
  std::unique_ptr<TokenStatsJournal> stats_journal;
  if (p.token_stats) stats_journal = std::make_unique<TokenStatsJournal>(t.out_dir / kTokenStatsPartial, p.continuation_len);
  if (exact == nullptr) {
    const MemorizationScanner scanner(lm, scan);
    summary.rows_computed = scan_rows(scanner, ds, journal, todo, label, p.progress, stats_journal.get());
  } else {
    // bf16 screen: delta calibrated on this slice's first rows (the same rows on a resume,
    // whatever the batch size), then every row screened, the close ones re-scored exactly.
    double delta = 0.0;
    const std::uint64_t n_cal = std::min<std::uint64_t>(kCalibrationRows, t.hi - t.lo);
    if (!todo.empty() && n_cal > 0) {
      const auto cal = read_block(ds, t.lo, t.lo + n_cal, scan.window(), lm.vocab_size());
      delta = max_logit_deviation(lm, *exact, cal->windows, p.prefix_len, p.continuation_len);
    }
    const ScreenedScanner scanner(lm, *exact, scan, p.tau, delta, n_cal);
    summary.rows_computed = scan_rows(scanner, ds, journal, todo, label, p.progress, nullptr);
    const ScreenStats st = scanner.stats();
    summary.rows_rechecked = st.rows_rechecked;
    summary.screen_bound = st.bound;
    summary.screen_max_deviation = st.max_deviation;
    auto num = [](double v) { return std::isfinite(v) ? J(v) : J("inf"); };
    screen_json = {{"compute", "bf16"},
                   {"calibration_rows", st.calibration_rows},
                   {"max_logit_deviation", num(st.max_deviation)},
                   {"safety_factor", kSafetyFactor},
                   {"bound", num(st.bound)},
                   {"recheck_below_margin", num(st.threshold)},
                   {"rows_screened", st.rows_screened},
                   {"rows_rechecked", st.rows_rechecked}};
  }

  const ScanSummary s = write_scores(journal, meta, t, p, stats_journal.get());
  if (p.memorized_evals) {  // the published layout: index + the row's first P+L tokens
    data::AtomicGzipWriter out(t.out_dir / results::kMemorizedEvalsFile);  // streamed: millions of rows
    std::vector<model::Token> w(static_cast<std::size_t>(p.prefix_len + p.continuation_len));
    for (const std::uint64_t i : s.memorized) {
      ds.read_tokens(i, w);
      out.write(results::memorized_evals_line({static_cast<std::int64_t>(i), std::vector<std::int64_t>(w.begin(), w.end())}));
    }
    out.commit();
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  J run = {{"threads", tbb::this_task_arena::max_concurrency()},
                 {"batch_size", p.batch_size},
                 {"shard", p.shard ? J(std::to_string(p.shard->index) + "/" + std::to_string(p.shard->count)) : J(nullptr)},
                 {"shard_source", p.shard ? J(p.shard->source) : J(nullptr)},
                 {"slice", J::array({t.lo, t.hi})},
                 {"rows_resumed", summary.rows_resumed},
                 {"journal_bytes_truncated", journal.truncated_bytes()},
                 {"host", host_name()},
                 {"blas", model::blas_config()},
                 {"config_sha256", config_sha}};
  if (!screen_json.is_null()) run["bf16_screen"] = screen_json;
  const J timing = {{"started_utc", started},
                    {"finished_utc", utc_now()},
                    {"seconds", summary.seconds},
                    {"rows_this_run", summary.rows_computed},
                    {"rows_per_second", summary.seconds > 0 ? static_cast<double>(summary.rows_computed) / summary.seconds : 0.0}};
  data::write_file_atomic(t.out_dir / results::kMemorizationJson,
                          results::pretty_json(results::memorization_json(meta, s, run, timing)));
  journal.remove();
  if (stats_journal) stats_journal->remove();
  fill_summary(summary, s, meta.exact_score ? s.mean_score() : std::nullopt);
  return summary;
}

}  // namespace pythia::memorization

#include "harness/memorize_job.h"

#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "data/error.h"
#include "data/indexed_dataset.h"
#include "harness/file_sha256.h"
#include "harness/launcher_env.h"
#include "harness/memorization_journal.h"
#include "harness/memorization_output.h"
#include "harness/memorization_scanner.h"
#include "harness/progress.h"
#include "model/gemm.h"

namespace pythia::harness {
namespace fs = std::filesystem;
using J = nlohmann::ordered_json;

namespace {

constexpr std::int64_t kLastPythiaStep = 143000;
constexpr std::uint64_t kCheapBinBytes = std::uint64_t{1} << 30;
constexpr const char* kJournal = "memorization.journal";

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

J data_description(const data::IndexedDataset& ds, const MemorizeOptions& o, bool layout_checked) {
  if (o.checksums != "auto" && o.checksums != "all" && o.checksums != "idx" && o.checksums != "none") {
    throw UsageError("--checksums must be auto, all, idx or none (got '" + o.checksums + "')");
  }
  // Expected hashes (utils/shard_hashes.txt format: "<filename> <64 hex>" per line).
  std::map<std::string, std::string> expected;
  if (!o.verify_sha256.empty()) {
    std::ifstream in(o.verify_sha256);
    if (!in) throw DataError(o.verify_sha256, "cannot open the checksum list");
    auto is_hex64 = [](const std::string& t) {
      return t.size() == 64 && t.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
    };
    std::string name, hex;
    while (in >> name >> hex) {
      if (is_hex64(name) && !is_hex64(hex)) std::swap(name, hex);  // sha256sum order
      if (!is_hex64(hex)) throw DataError(o.verify_sha256, "line for '" + name + "' has no 64-digit SHA-256");
      if (!name.empty() && name[0] == '*') name.erase(0, 1);      // sha256sum binary marker
      for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      expected[fs::path(name).filename().string()] = hex;
    }
  }
  J files = J::array();
  auto describe = [&](const fs::path& p, bool hash) {
    const std::string name = p.filename().string();
    const auto want = expected.find(name);
    std::string sum;
    if (hash || want != expected.end()) sum = sha256_file(p);
    if (want != expected.end() && want->second != sum) {
      throw DataError(p.string(), "SHA-256 " + sum + " differs from " + want->second + " listed in " + o.verify_sha256);
    }
    J f = {{"name", name}, {"bytes", fs::file_size(p)}, {"sha256", sum.empty() ? J(nullptr) : J(sum)}};
    if (!expected.empty()) f["verified"] = want != expected.end();
    files.push_back(f);
  };
  const bool idx_sum = o.checksums != "none";
  describe(ds.idx_path(), idx_sum);
  const bool bin_sum = o.checksums == "all" || (o.checksums == "auto" && ds.bin_bytes() <= kCheapBinBytes);
  for (const auto& p : ds.bin_paths()) describe(p, bin_sum);
  std::string note = "sha256 of every file";
  if (!idx_sum) {
    note = "checksums skipped (--checksums none)";
  } else if (!bin_sum) {
    note = o.checksums == "idx" ? "sha256 of the .idx only (--checksums idx)"
                                : "sha256 of the .idx only: .bin larger than 1 GiB (--checksums all to hash it)";
  }
  return J{{"prefix", o.data},
           {"items", ds.size()},
           {"dtype_code", ds.dtype_code()},
           {"layout", layout_checked ? "preshuffled (2049-token rows)" : "unchecked (--any-layout)"},
           {"files", files},
           {"checksums", note}};
}

struct Block {
  std::uint64_t first = 0;
  std::vector<model::Token> windows;
  std::vector<std::uint64_t> indices;
  std::vector<RowScore> out;
};

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

}  // namespace

std::optional<std::int64_t> step_of_revision_name(const std::string& revision) {
  if (revision.rfind("step", 0) != 0 || revision.size() == 4) return std::nullopt;
  std::int64_t v = 0;
  const char* b = revision.data() + 4;
  const char* e = revision.data() + revision.size();
  const auto r = std::from_chars(b, e, v);
  if (r.ec != std::errc() || r.ptr != e) return std::nullopt;
  return v;
}

std::pair<std::uint64_t, std::uint64_t> rows_of_step(std::int64_t step, std::int64_t sequences_per_step) {
  if (step < 0 || step > kLastPythiaStep) {
    throw UsageError("step " + std::to_string(step) + " is outside 0..143000 (Pythia's last step)");
  }
  if (sequences_per_step < 1) throw UsageError("--sequences-per-step must be >= 1");
  return {0, static_cast<std::uint64_t>(step) * static_cast<std::uint64_t>(sequences_per_step)};
}

MemorizeSummary run_memorize_job(const model::CausalLm& lm, const std::string& model_name,
                                 const std::string& revision_in, const MemorizeOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string started = utc_now();
  const std::string revision = revision_in.empty() ? "main" : revision_in;
  if (o.data.empty()) throw UsageError("--data PREFIX is required");
  if (o.batch_size < 1) throw UsageError("--batch-size must be >= 1");
  if (o.prefix_len < 1 || o.continuation_len < 1 || o.prefix_len + o.continuation_len - 1 > lm.max_positions()) {
    throw UsageError("--prefix-len and --continuation-len must be >= 1 and fit the model's positions");
  }
  if (o.continuation_len > 255) throw UsageError("--continuation-len must be <= 255");
  if (o.eod_policy != "reference" && o.eod_policy != "allow") {
    throw UsageError("--eod-policy must be 'reference' or 'allow' (got '" + o.eod_policy + "')");
  }
  if (!(o.tau >= 0)) throw UsageError("--tau must be >= 0");

  // Checkpoint step and row range.
  std::optional<std::int64_t> step;
  if (o.step >= 0) step = o.step;
  else if (o.step != -1) throw UsageError("--step must be >= 0");
  else step = step_of_revision_name(revision);
  std::uint64_t begin = 0, end = 0;
  if (step) std::tie(begin, end) = rows_of_step(*step, o.sequences_per_step);
  if (o.start >= 0 || o.end >= 0) {
    if (o.start < 0 || o.end < 0 || o.end < o.start) {
      throw UsageError("--start A --end B need 0 <= A <= B (got " + std::to_string(o.start) + ", " +
                       std::to_string(o.end) + ")");
    }
    begin = static_cast<std::uint64_t>(o.start);
    end = static_cast<std::uint64_t>(o.end);
  } else if (!step) {
    throw UsageError("revision '" + revision + "' is not named stepN: give --step N or --start/--end");
  }

  // Data.
  const data::IndexedDataset ds(o.data);
  if (end > ds.size()) {
    throw DataError(ds.idx_path().string(), "rows [" + std::to_string(begin) + ", " + std::to_string(end) +
                                                ") reach past the end of the dataset (" + std::to_string(ds.size()) +
                                                " rows)");
  }

  // This process's slice.
  std::optional<ShardSpec> shard;
  if (!o.shard.empty()) shard = parse_shard(o.shard);
  else shard = shard_from_env();
  if (shard && !shard->sharded()) shard.reset();
  const auto [lo, hi] = shard ? shard_range(begin, end, *shard) : std::pair{begin, end};
  if (!o.any_layout) ds.check_preshuffled(lo, hi);

  fs::path out_dir = fs::path(o.output) / model_name / revision;
  if (shard) out_dir /= shard_dir_name(*shard);
  fs::create_directories(out_dir);

  ScanMeta meta;
  meta.model = model_name;
  meta.revision = revision;
  meta.step = step;
  meta.data = data_description(ds, o, !o.any_layout);
  meta.row_begin = lo;  // a shard records its slice; `merge` writes the union
  meta.row_end = hi;
  meta.sequences_per_step = static_cast<std::uint64_t>(o.sequences_per_step);
  meta.scan.prefix_len = o.prefix_len;
  meta.scan.continuation_len = o.continuation_len;
  meta.scan.eod_policy = o.eod_policy == "allow" ? EodPolicy::kAllow : EodPolicy::kReference;
  meta.scan.exact_score = !o.memorized_only;
  // Staged teacher forcing (skips positions after a row's first mismatch) changes no result only
  // when logits do not depend on how a sequence is split into forward() calls. CausalLm does not
  // promise that in general; models that do say so (GptNeox: tests/model/split_invariance_test.cpp).
  if (lm.forward_is_split_invariant()) {
    meta.scan.stage_ends = default_stage_ends(o.prefix_len, o.continuation_len);
  }
  meta.tau = o.tau;
  meta.backend = o.backend;
  meta.extended_csv = o.extended_csv;

  // The configuration a resumed run must repeat (threads and batch size do not change results).
  const J config = {{"model", model_name},          {"revision", revision},
                    {"step", step ? J(*step) : J(nullptr)}, {"data", meta.data},
                    {"row_range", J::array({begin, end})}, {"slice", J::array({lo, hi})},
                    {"shard", shard ? J(shard_dir_name(*shard)) : J(nullptr)},
                    {"sequences_per_step", o.sequences_per_step}, {"prefix_len", o.prefix_len},
                    {"continuation_len", o.continuation_len}, {"eod_policy", o.eod_policy},
                    {"score_mode", o.memorized_only ? "memorized-only" : "exact"},
                    {"tau", o.tau},            {"extended_csv", o.extended_csv}};
  const std::string config_text = config.dump();
  Sha256 cfg_hash;
  cfg_hash.update({reinterpret_cast<const unsigned char*>(config_text.data()), config_text.size()});
  const std::string config_sha = cfg_hash.hex_digest();

  MemorizeSummary summary;
  summary.output_dir = out_dir;
  summary.row_begin = lo;
  summary.row_end = hi;

  // A finished folder: the same configuration is done; another one is refused.
  const fs::path json_path = out_dir / kMemorizationJson;
  if (fs::exists(json_path) && !fs::exists(out_dir / kJournal)) {
    const J done = J::parse(read_gzip_file(json_path), nullptr, false);
    const bool same = !done.is_discarded() && done.contains("run") && done["run"].is_object() &&
                      done["run"].value("config_sha256", "") == config_sha;
    if (!same) {
      throw UsageError(out_dir.string() + " already holds a memorization result of another configuration; "
                       "remove it or choose another --output");
    }
    const ScanSummary s = summary_from_json(done, json_path.string());
    summary.rows_scanned = s.rows_scanned;
    summary.rows_memorized = s.rows_memorized;
    summary.rows_nan = s.rows_nan;
    summary.rows_near_tie = s.near_tie.size();
    summary.mean_score = done["mean_score"].is_number() ? std::optional<double>(done["mean_score"].get<double>())
                                                        : std::nullopt;
    summary.already_complete = true;
    return summary;
  }

  MemorizationJournal journal(out_dir / kJournal, config_text);
  // Temporary files of a run killed while writing its outputs (".<name>.tmp-<pid>").
  for (const auto& e : fs::directory_iterator(out_dir)) {
    const std::string n = e.path().filename().string();
    if (n.rfind(".memorization", 0) == 0 && n.find(".tmp-") != std::string::npos) fs::remove(e.path());
  }
  summary.rows_resumed = journal.rows_done();
  const auto todo = missing_blocks(lo, hi, journal.blocks(), static_cast<std::uint64_t>(o.batch_size));

  // Scan: read -> score -> journal.
  const MemorizationScanner scanner(lm, meta.scan);
  const int W = meta.scan.window();
  const int threads = tbb::this_task_arena::max_concurrency();
  const int delay_ms = test_block_delay_ms();
  std::uint64_t todo_rows = 0;
  for (const auto& [a, b] : todo) todo_rows += b - a;
  Progress progress("memorize " + model_name + "/" + revision, todo_rows);
  if (!o.progress) progress.set_enabled(false);
  std::size_t next = 0;
  const std::string bin_name = ds.bin_paths().front().string();
  tbb::parallel_pipeline(
      static_cast<std::size_t>(std::max(2, threads)),
      tbb::make_filter<void, std::shared_ptr<Block>>(
          tbb::filter_mode::serial_in_order,
          [&](tbb::flow_control& fc) -> std::shared_ptr<Block> {
            if (next == todo.size()) {
              fc.stop();
              return nullptr;
            }
            const auto [a, b] = todo[next++];
            auto blk = std::make_shared<Block>();
            blk->first = a;
            blk->windows.resize((b - a) * static_cast<std::size_t>(W));
            for (std::uint64_t i = a; i < b; ++i) {
              std::span<model::Token> w(blk->windows.data() + (i - a) * static_cast<std::size_t>(W),
                                        static_cast<std::size_t>(W));
              ds.read_tokens(i, w);
              for (model::Token t : w) {
                if (t >= lm.vocab_size()) {
                  throw DataError(bin_name, "row " + std::to_string(i) + " holds token id " + std::to_string(t) +
                                                ", outside the model's vocabulary (" +
                                                std::to_string(lm.vocab_size()) + ")");
                }
              }
              blk->indices.push_back(i);
            }
            blk->out.resize(b - a);
            return blk;
          }) &
          tbb::make_filter<std::shared_ptr<Block>, std::shared_ptr<Block>>(
              tbb::filter_mode::parallel,
              [&](std::shared_ptr<Block> blk) {
                scanner.score(blk->windows, blk->indices, blk->out, true);
                blk->windows = {};
                return blk;
              }) &
          tbb::make_filter<std::shared_ptr<Block>, void>(
              tbb::filter_mode::serial_in_order, [&](std::shared_ptr<Block> blk) {
                journal.append(blk->first, blk->out);
                progress.advance(blk->out.size());
                summary.rows_computed += blk->out.size();
                if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
              }));
  progress.finish();

  // Finalize from the journal, in row order.
  auto blocks = journal.blocks();
  std::sort(blocks.begin(), blocks.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::uint64_t cursor = lo;
  for (const auto& b : blocks) {
    if (b.first != cursor) throw DataError(journal.path().string(), "journal does not tile the row range");
    cursor += b.count;
  }
  if (cursor != hi) throw DataError(journal.path().string(), "journal does not cover the row range");
  ScanSummary s(o.continuation_len);
  std::unique_ptr<AtomicGzipWriter> csv, ext;
  if (meta.scan.exact_score) csv = std::make_unique<AtomicGzipWriter>(out_dir / kScoresCsv);
  if (o.extended_csv) {
    ext = std::make_unique<AtomicGzipWriter>(out_dir / kExtendedCsv);
    ext->write(extended_csv_header());
  }
  const std::uint64_t seen_end = step ? static_cast<std::uint64_t>(*step) * meta.sequences_per_step : ~std::uint64_t{0};
  for (const auto& b : blocks) {
    for (const RowScore& r : journal.read(b)) {
      const bool unseen = r.index >= seen_end;
      s.add(r, o.tau, unseen);
      if (csv) csv->write(csv_line(r, o.continuation_len));
      if (ext) ext->write(extended_csv_line(r, o.continuation_len, o.tau, unseen));
    }
  }
  if (csv) csv->commit();
  if (ext) ext->commit();

  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const J run = {{"threads", threads},
                 {"batch_size", o.batch_size},
                 {"shard", shard ? J(std::to_string(shard->index) + "/" + std::to_string(shard->count)) : J(nullptr)},
                 {"shard_source", shard ? J(shard->source) : J(nullptr)},
                 {"slice", J::array({lo, hi})},
                 {"rows_resumed", summary.rows_resumed},
                 {"journal_bytes_truncated", journal.truncated_bytes()},
                 {"host", host_name()},
                 {"blas", model::blas_config()},
                 {"config_sha256", config_sha}};
  const J timing = {{"started_utc", started},
                    {"finished_utc", utc_now()},
                    {"seconds", summary.seconds},
                    {"rows_this_run", summary.rows_computed},
                    {"rows_per_second", summary.seconds > 0 ? static_cast<double>(summary.rows_computed) / summary.seconds : 0.0}};
  write_file_atomic(json_path, pretty_json(memorization_json(meta, s, run, timing)));
  journal.remove();

  summary.rows_scanned = s.rows_scanned;
  summary.rows_memorized = s.rows_memorized;
  summary.rows_nan = s.rows_nan;
  summary.rows_near_tie = s.near_tie.size();
  summary.mean_score = meta.scan.exact_score ? s.mean_score() : std::nullopt;
  return summary;
}

}  // namespace pythia::harness

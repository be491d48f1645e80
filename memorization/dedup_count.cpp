// Duplicate counts of the scanned windows: see dedup_count.h.
#include "memorization/dedup_count.h"

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <queue>
#include <vector>

#include "data/atomic_file.h"
#include "data/error.h"
#include "data/gzip_stream.h"
#include "data/indexed_dataset.h"
#include "data/progress.h"
#include "results/memorization_file.h"

namespace pythia::memorization {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

constexpr std::uint64_t kBase = 0x9E3779B97F4A7C15ull;  // odd
constexpr std::uint64_t kBytesPerQuery = 80;  // 2 slots (16 B) + 2 counts (8 B) at load <= 1/2, row + hash, result
constexpr const char* kWorkDir = ".dedup-work";

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

std::uint64_t raw_hash(const std::int32_t* t, int w) {
  std::uint64_t h = 0;
  for (int i = 0; i < w; ++i) h = h * kBase + static_cast<std::uint32_t>(t[i]);
  return h;
}

std::uint64_t group_of(std::uint64_t mixed, std::uint64_t groups) { return (mixed >> 40) % groups; }

// Open-addressing table of one group's distinct query windows.
struct Table {
  struct Slot {
    std::uint64_t hash = 0;
    std::uint64_t rep_plus1 = 0;  // 0: empty; else the first query row with this window, + 1
  };
  std::vector<Slot> slots;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts;
  std::uint64_t mask = 0, distinct = 0;

  explicit Table(std::uint64_t entries) {
    std::uint64_t cap = 16;
    while (cap < 2 * entries) cap <<= 1;
    slots.resize(cap);
    counts = std::make_unique<std::atomic<std::uint64_t>[]>(cap);
    for (std::uint64_t i = 0; i < cap; ++i) counts[i].store(0, std::memory_order_relaxed);
    mask = cap - 1;
  }
  // The slot holding a window equal to `w` (hash `h`), or -1. `same(row, w)`: row's window == w.
  template <typename Same>
  std::int64_t find(std::uint64_t h, const std::int32_t* w, Same&& same) const {
    for (std::uint64_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots[i];
      if (s.rep_plus1 == 0) return -1;
      if (s.hash == h && same(s.rep_plus1 - 1, w)) return static_cast<std::int64_t>(i);
    }
  }
  template <typename Same>
  void insert(std::uint64_t h, std::uint64_t row, const std::int32_t* w, Same&& same) {
    if (find(h, w, same) >= 0) return;
    std::uint64_t i = h & mask;
    while (slots[i].rep_plus1 != 0) i = (i + 1) & mask;
    slots[i] = {h, row + 1};
    ++distinct;
  }
};

std::string config_text(const DedupPlan& plan, const data::IndexedDataset& ds, std::uint64_t row_end,
                        std::uint64_t groups) {
  ordered_json j;
  j["data_prefix"] = data::strip_dataset_suffix(plan.data_prefix);
  j["items"] = ds.size();
  j["bin_bytes"] = ds.bin_bytes();
  j["window"] = plan.window;
  j["rows"] = {plan.row_begin, row_end};
  j["groups"] = groups;
  return j.dump();
}

fs::path group_file(const fs::path& work, std::uint64_t g, std::uint64_t groups) {
  return work / ("group-" + std::to_string(g) + "-of-" + std::to_string(groups) + ".bin");
}

void put64(std::string& out, std::uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }

// One group: build the table, count over the whole memmap, write (row, count) pairs sorted by row.
void run_group(const data::IndexedDataset& ds, const DedupPlan& plan, std::uint64_t row_end,
                        std::uint64_t g, std::uint64_t groups, const fs::path& out_file, data::Progress& progress) {
  const int W = plan.window;
  // This group's query rows and their window hashes (recomputed per group: cheap next to the
  // memmap pass). Windows are not copied: a hash hit is verified against the memmap itself.
  std::vector<std::uint64_t> rows;
  std::vector<std::uint64_t> hashes;
  std::vector<std::int32_t> w(static_cast<std::size_t>(W));
  for (std::uint64_t r = plan.row_begin; r < row_end; ++r) {
    ds.read_tokens(r, w);
    const std::uint64_t h = mix(raw_hash(w.data(), W));
    if (group_of(h, groups) != g) continue;
    rows.push_back(r);
    hashes.push_back(h);
  }
  tbb::enumerable_thread_specific<std::vector<std::int32_t>> rep_bufs(static_cast<std::size_t>(W));
  auto same = [&](std::uint64_t k, const std::int32_t* win) {
    std::vector<std::int32_t>& rb = rep_bufs.local();
    ds.read_tokens(rows[k], rb);
    return std::memcmp(rb.data(), win, sizeof(std::int32_t) * static_cast<std::size_t>(W)) == 0;
  };
  Table table(rows.size());
  for (std::uint64_t k = 0; k < rows.size(); ++k) {
    ds.read_tokens(rows[k], w);
    table.insert(hashes[k], k, w.data(), same);
  }
  // The memmap pass: every row, every offset, rolling hash; hits verified token by token.
  std::uint64_t pow = 1;  // kBase^(W-1)
  for (int i = 1; i < W; ++i) pow *= kBase;
  tbb::enumerable_thread_specific<std::vector<std::int32_t>> bufs;
  tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, ds.size(), 16), [&](const tbb::blocked_range<std::uint64_t>& br) {
    std::vector<std::int32_t>& buf = bufs.local();
    std::uint64_t tokens = 0;
    for (std::uint64_t r = br.begin(); r != br.end(); ++r) {
      const std::int32_t len = ds.item_size(r);
      tokens += static_cast<std::uint64_t>(std::max(len, 0));
      if (len < W) continue;
      buf.resize(static_cast<std::size_t>(len));
      ds.read_tokens(r, buf);
      const std::int32_t* t = buf.data();
      std::uint64_t h = raw_hash(t, W);
      for (std::int32_t o = 0;; ++o) {
        const std::uint64_t m = mix(h);
        if (group_of(m, groups) == g) {
          const std::int64_t s = table.find(m, t + o, same);
          if (s >= 0) table.counts[static_cast<std::uint64_t>(s)].fetch_add(1, std::memory_order_relaxed);
        }
        if (o + W >= len) break;
        h = (h - static_cast<std::uint32_t>(t[o]) * pow) * kBase + static_cast<std::uint32_t>(t[o + W]);
      }
    }
    progress.advance(tokens);
  });
  std::string bytes;
  put64(bytes, rows.size());
  for (std::uint64_t k = 0; k < rows.size(); ++k) {
    ds.read_tokens(rows[k], w);
    const std::int64_t s = table.find(hashes[k], w.data(), same);
    put64(bytes, rows[k]);
    put64(bytes, table.counts[static_cast<std::uint64_t>(s)].load());
  }
  data::write_file_atomic(out_file, bytes);
}

// Reads a group file: (row, count) pairs in increasing row order.
std::vector<std::pair<std::uint64_t, std::uint64_t>> read_group(const fs::path& p) {
  const std::string b = data::read_whole_file(p);
  std::uint64_t n = 0;
  if (b.size() < 8) throw DataError(p.string(), "truncated dedup journal file");
  std::memcpy(&n, b.data(), 8);
  if (b.size() != 8 + 16 * n) throw DataError(p.string(), "dedup journal file has the wrong size");
  std::vector<std::pair<std::uint64_t, std::uint64_t>> v(n);
  for (std::uint64_t k = 0; k < n; ++k) {
    std::memcpy(&v[k].first, b.data() + 8 + 16 * k, 8);
    std::memcpy(&v[k].second, b.data() + 16 + 16 * k, 8);
  }
  return v;
}

}  // namespace

std::uint64_t window_hash(const std::int32_t* tokens, int window) { return mix(raw_hash(tokens, window)); }

DedupSummary run_dedup_count(const DedupPlan& plan) {
  const auto t0 = std::chrono::steady_clock::now();
  if (plan.window < 1) throw UsageError("the window must be at least 1 token");
  if (plan.memory_bytes < 1024) throw UsageError("the memory budget must be at least 1 KiB");
  if (plan.output.empty()) throw UsageError("an output folder is required");
  const data::IndexedDataset ds(plan.data_prefix);
  const std::uint64_t row_end = plan.row_end == 0 ? ds.size() : plan.row_end;
  if (plan.row_begin >= row_end || row_end > ds.size()) {
    throw UsageError("query rows [" + std::to_string(plan.row_begin) + ", " + std::to_string(row_end) +
                     ") are not inside the memmap's " + std::to_string(ds.size()) + " rows");
  }
  for (std::uint64_t r = plan.row_begin; r < row_end; ++r) {
    if (ds.item_size(r) < plan.window) {
      throw DataError(ds.idx_path().string(), "row " + std::to_string(r) + " has " + std::to_string(ds.item_size(r)) +
                                                  " tokens, fewer than the window of " + std::to_string(plan.window));
    }
  }
  DedupSummary sum;
  sum.query_rows = row_end - plan.row_begin;
  sum.groups = std::max<std::uint64_t>(1, (sum.query_rows * kBytesPerQuery + plan.memory_bytes - 1) / plan.memory_bytes);
  std::uint64_t tokens_total = 0;
  for (std::uint64_t r = 0; r < ds.size(); ++r) tokens_total += static_cast<std::uint64_t>(std::max(ds.item_size(r), 0));
  sum.tokens_scanned = tokens_total;

  const fs::path work = plan.output / kWorkDir;
  const std::string config = config_text(plan, ds, row_end, sum.groups);
  const fs::path config_file = work / "config.json";
  if (fs::exists(config_file)) {
    if (data::read_whole_file(config_file) != config) {
      throw DataError(work.string(), "holds an unfinished dedup-count of another configuration (" +
                                         data::read_whole_file(config_file) + "); remove it or use another --output");
    }
  } else {
    data::write_file_atomic(config_file, config);
  }
  std::uint64_t todo = 0;
  for (std::uint64_t g = 0; g < sum.groups; ++g) todo += fs::exists(group_file(work, g, sum.groups)) ? 0 : 1;
  data::Progress progress("dedup-count", todo * tokens_total, "tokens");
  if (!plan.progress) progress.set_enabled(false);
  for (std::uint64_t g = 0; g < sum.groups; ++g) {
    const fs::path f = group_file(work, g, sum.groups);
    if (fs::exists(f)) {
      ++sum.groups_resumed;
      continue;
    }
    run_group(ds, plan, row_end, g, sum.groups, f, progress);
  }
  progress.finish();

  // Merge the groups in row order.
  std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>> parts;
  for (std::uint64_t g = 0; g < sum.groups; ++g) parts.push_back(read_group(group_file(work, g, sum.groups)));
  using Head = std::pair<std::uint64_t, std::size_t>;  // (row, part)
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heap;
  std::vector<std::size_t> pos(parts.size(), 0);
  for (std::size_t p = 0; p < parts.size(); ++p) {
    if (!parts[p].empty()) heap.push({parts[p][0].first, p});
  }
  std::map<std::uint64_t, std::uint64_t> histogram;  // count -> rows
  data::AtomicGzipWriter csv(plan.output / kDedupCsv);
  std::string buf;
  std::uint64_t written = 0;
  while (!heap.empty()) {
    const auto [row, p] = heap.top();
    heap.pop();
    const std::uint64_t count = parts[p][pos[p]].second;
    ++histogram[count];
    buf += std::to_string(row);
    buf += ',';
    buf += std::to_string(count);
    buf += '\n';
    if (buf.size() > (1u << 16)) {
      csv.write(buf);
      buf.clear();
    }
    ++written;
    if (++pos[p] < parts[p].size()) heap.push({parts[p][pos[p]].first, p});
  }
  csv.write(buf);
  if (written != sum.query_rows) {
    throw DataError(work.string(), "the journal holds " + std::to_string(written) + " rows, expected " +
                                       std::to_string(sum.query_rows) + "; remove it and re-run");
  }
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ordered_json j;
  j["format"] = "pythia-harness dedup-count v1";
  j["data"] = {{"prefix", data::strip_dataset_suffix(plan.data_prefix)}, {"items", ds.size()},
               {"bin_bytes", ds.bin_bytes()}};
  j["window"] = plan.window;
  j["window_definition"] = "tokens [0, window) of each query row, counted at every offset of every row";
  j["query_rows"] = {plan.row_begin, row_end};
  j["tokens_scanned"] = tokens_total;
  j["groups"] = sum.groups;
  ordered_json h = ordered_json::object();
  for (const auto& [c, n] : histogram) h[std::to_string(c)] = n;
  j["histogram"] = std::move(h);
  j["timing"] = {{"seconds", sum.seconds}, {"groups_resumed", sum.groups_resumed}};
  csv.commit();
  data::write_file_atomic(plan.output / kDedupJson, results::pretty_json(j));
  if (!plan.keep_work) fs::remove_all(work);
  return sum;
}

}  // namespace pythia::memorization

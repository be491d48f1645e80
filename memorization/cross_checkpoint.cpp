// Cross-checkpoint memorized-set analysis: see cross_checkpoint.h.
#include "memorization/cross_checkpoint.h"

#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <memory>
#include <tuple>
#include <tbb/parallel_for.h>

#include "data/error.h"
#include "data/progress.h"
#include "memorization/memorized_rows.h"
#include "results/memorization_file.h"
#include "results/output_layout.h"

namespace pythia::memorization {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

// The data identity of a scan: the recorded SHA-256 of its files, else the memmap's file name.
std::string data_key_of(const nlohmann::json& raw) {
  const auto d = raw.find("data");
  if (d == raw.end() || !d->is_object()) return "";
  std::string key;
  if (const auto files = d->find("files"); files != d->end() && files->is_array()) {
    for (const auto& f : *files) {
      if (f.is_object() && f.contains("sha256") && f["sha256"].is_string() && f.contains("name") &&
          f["name"].is_string()) {
        key += (key.empty() ? "" : " ") + f["name"].get<std::string>() + ":" + f["sha256"].get<std::string>();
      }
    }
  }
  if (!key.empty()) return key;
  if (const auto p = d->find("prefix"); p != d->end() && p->is_string()) {
    return fs::path(p->get<std::string>()).filename().string();
  }
  return "";
}

bool in_shard_folder(const fs::path& rel) {
  for (const auto& part : rel) {
    if (results::parse_shard_folder(part.string())) return true;
  }
  return false;
}

std::optional<double> ratio(std::uint64_t num, std::uint64_t den) {
  if (den == 0) return std::nullopt;
  return static_cast<double>(num) / static_cast<double>(den);
}

ordered_json num_or_null(std::optional<double> v) { return v ? ordered_json(*v) : ordered_json(nullptr); }

// Bits of `bits` (one block starting at row `base`, prefix[w] = bits set in words [0, w)) whose
// row lies in [lo, hi).
std::uint64_t count_in_range(const std::uint64_t* bits, const std::uint32_t* prefix, std::uint64_t words,
                             std::uint64_t base, std::uint64_t lo, std::uint64_t hi) {
  const std::uint64_t end = base + words * 64;
  lo = std::max(lo, base);
  hi = std::min(hi, end);
  if (lo >= hi) return 0;
  const std::uint64_t a = lo - base, b = hi - base;  // bit offsets [a, b)
  auto bits_below = [&](std::uint64_t off) {  // bits at offsets < off
    const std::uint64_t w = off >> 6, r = off & 63;
    std::uint64_t n = prefix[w];
    if (r != 0 && w < words) n += static_cast<std::uint64_t>(std::popcount(bits[w] & ((std::uint64_t{1} << r) - 1)));
    return n;
  };
  return bits_below(b) - bits_below(a);
}

struct PairCounts {
  std::uint64_t both = 0, a_common = 0, b_common = 0;
};

// Duplicate-count buckets: 0 -> count 1, b >= 1 -> counts 2^(b-1)+1 .. 2^b; kUnknown: no count.
constexpr int kBuckets = 65;
constexpr std::uint8_t kUnknown = 64;
std::uint8_t bucket_of(std::uint64_t count) {
  return count <= 1 ? 0 : static_cast<std::uint8_t>(std::min<int>(63, std::bit_width(count - 1)));
}

// The rows' buckets of one block, streamed from the sorted `index,count` file.
class DedupBuckets {
 public:
  explicit DedupBuckets(const fs::path& p) : rows_(MemorizedRows::from_scores_csv(p, 0.0)), path_(p.string()) {
    advance();
  }
  void fill(std::uint64_t base, std::uint64_t n, std::uint8_t* out) {
    std::fill(out, out + n, kUnknown);
    while (have_ && index_ < base + n) {
      if (index_ >= base) out[index_ - base] = bucket_of(count_);
      advance();
    }
  }

 private:
  void advance() {
    double v = 0;
    have_ = rows_.next_pair(index_, v);
    if (have_ && !(v >= 1 && v == static_cast<double>(static_cast<std::uint64_t>(v)))) {
      throw DataError(path_, "row " + std::to_string(index_) + ": a duplicate count must be an integer >= 1");
    }
    count_ = have_ ? static_cast<std::uint64_t>(v) : 0;
  }
  MemorizedRows rows_;
  std::string path_;
  bool have_ = false;
  std::uint64_t index_ = 0, count_ = 0;
};

struct BucketCounts {
  std::array<std::uint64_t, kBuckets> rows{}, memorized{};
};

}  // namespace

std::vector<ScanEntry> find_scans(const fs::path& root) {
  std::error_code ec;
  if (!fs::exists(root, ec)) throw DataError(root.string(), "does not exist");
  std::vector<fs::path> files;
  if (fs::is_regular_file(root)) {
    files.push_back(root);
  } else {
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      const std::string n = it->path().filename().string();
      if (n != results::kMemorizationJson && n != "memorization.json.gz") continue;
      if (in_shard_folder(it->path().parent_path().lexically_relative(root))) continue;
      files.push_back(it->path());
    }
    if (ec) throw DataError(root.string(), "cannot list: " + ec.message());
  }
  std::vector<ScanEntry> scans;
  for (const fs::path& p : files) {
    results::MemorizationResult m;
    try {
      m = results::read_memorization(p);
    } catch (const std::runtime_error& e) {
      throw DataError(e.what());
    }
    ScanEntry s;
    s.folder = fs::is_regular_file(root) ? "." : p.parent_path().lexically_relative(root).generic_string();
    if (s.folder.empty()) s.folder = ".";
    s.model = m.model;
    s.revision = m.revision;
    s.step = m.step;
    s.row_begin = m.row_begin;
    s.row_end = m.row_end;
    s.rows_scanned = m.rows_scanned;
    s.rows_memorized = m.rows_memorized;
    s.data_key = data_key_of(m.raw);
    s.json_path = p;
    s.scores_path = m.scores_path;
    scans.push_back(std::move(s));
  }
  std::sort(scans.begin(), scans.end(), [](const ScanEntry& a, const ScanEntry& b) {
    const auto sa = a.step.value_or(INT64_MAX), sb = b.step.value_or(INT64_MAX);
    return std::tie(a.data_key, a.model, sa, a.revision, a.folder) <
           std::tie(b.data_key, b.model, sb, b.revision, b.folder);
  });
  return scans;
}

namespace {

MemorizedRows open_rows(const ScanEntry& s, double min_score) {
  if (!s.scores_path.empty()) return MemorizedRows::from_scores_csv(s.scores_path, min_score);
  if (min_score != 1.0) {
    throw DataError(s.json_path.string(), "no scores CSV beside it (a --memorized-only scan): only "
                                          "--min-score 1 can be analysed from memorized_indices");
  }
  const results::MemorizationResult m = results::read_memorization(s.json_path);
  return MemorizedRows::from_indices(m.memorized_indices, s.json_path.string());
}

ordered_json analyze_group(const std::vector<const ScanEntry*>& g, const AnalysisOptions& opt) {
  const std::size_t k = g.size();
  const std::uint64_t words = opt.block_rows / 64;
  std::vector<MemorizedRows> rows;
  rows.reserve(k);
  for (const ScanEntry* s : g) rows.push_back(open_rows(*s, opt.min_score));
  std::vector<std::uint64_t> bits(k * words);
  std::vector<std::uint32_t> prefix(k * (words + 1));
  std::vector<std::uint64_t> total(k, 0), block_count(k, 0);
  std::vector<PairCounts> pairs(k * k);
  std::uint64_t row_hi = 0;
  for (const ScanEntry* s : g) row_hi = std::max<std::uint64_t>(row_hi, static_cast<std::uint64_t>(s->row_end));
  data::Progress progress("analyze " + (g.front()->model.empty() ? g.front()->folder : g.front()->model), row_hi,
                          "rows");
  if (!opt.progress) progress.set_enabled(false);
  std::uint64_t done_rows = 0;
  const bool with_dedup = !opt.dedup_counts.empty();
  std::unique_ptr<DedupBuckets> dedup;
  std::vector<std::uint8_t> bucket(with_dedup ? opt.block_rows : 0);
  std::vector<BucketCounts> by_bucket(with_dedup ? k : 0);
  if (with_dedup) dedup = std::make_unique<DedupBuckets>(opt.dedup_counts);
  std::uint64_t next_base = 0;  // with dedup counts every block of [0, row_hi) is visited
  for (;;) {
    std::uint64_t first = kEndOfRows;
    for (auto& r : rows) first = std::min(first, r.peek());
    if (with_dedup && next_base < row_hi) first = std::min(first, next_base);
    if (first == kEndOfRows) break;
    const std::uint64_t base = std::max(next_base, first / opt.block_rows * opt.block_rows);
    next_base = base + opt.block_rows;
    std::fill(bits.begin(), bits.end(), 0);
    tbb::parallel_for(std::size_t{0}, k, [&](std::size_t c) {
      std::uint64_t* b = bits.data() + c * words;
      block_count[c] = rows[c].fill(base, base + opt.block_rows, b);
      std::uint32_t* p = prefix.data() + c * (words + 1);
      p[0] = 0;
      for (std::uint64_t w = 0; w < words; ++w) p[w + 1] = p[w] + static_cast<std::uint32_t>(std::popcount(b[w]));
    });
    for (std::size_t c = 0; c < k; ++c) total[c] += block_count[c];
    if (with_dedup) {
      dedup->fill(base, opt.block_rows, bucket.data());
      std::array<std::uint64_t, kBuckets> block_rows_per_bucket{};
      for (std::uint64_t r = 0; r < opt.block_rows; ++r) ++block_rows_per_bucket[bucket[r]];
      tbb::parallel_for(std::size_t{0}, k, [&](std::size_t c) {
        const std::uint64_t lo = std::max<std::uint64_t>(static_cast<std::uint64_t>(g[c]->row_begin), base);
        const std::uint64_t hi = std::min<std::uint64_t>(static_cast<std::uint64_t>(g[c]->row_end), base + opt.block_rows);
        BucketCounts& bc = by_bucket[c];
        if (lo >= hi) return;
        if (lo == base && hi == base + opt.block_rows) {
          for (int b = 0; b < kBuckets; ++b) bc.rows[static_cast<std::size_t>(b)] += block_rows_per_bucket[static_cast<std::size_t>(b)];
        } else {
          for (std::uint64_t r = lo; r < hi; ++r) ++bc.rows[bucket[r - base]];
        }
        const std::uint64_t* b = bits.data() + c * words;
        for (std::uint64_t w = 0; w < words; ++w) {
          for (std::uint64_t x = b[w]; x != 0; x &= x - 1) {
            const std::uint64_t r = base + w * 64 + static_cast<std::uint64_t>(std::countr_zero(x));
            if (r >= lo && r < hi) ++bc.memorized[bucket[r - base]];
          }
        }
      });
    }
    tbb::parallel_for(std::size_t{0}, k, [&](std::size_t i) {
      const std::uint64_t* a = bits.data() + i * words;
      for (std::size_t j = i + 1; j < k; ++j) {
        if (block_count[i] == 0 && block_count[j] == 0) continue;
        const std::uint64_t* b = bits.data() + j * words;
        PairCounts& pc = pairs[i * k + j];
        if (block_count[i] != 0 && block_count[j] != 0) {
          std::uint64_t n = 0;
          for (std::uint64_t w = 0; w < words; ++w) n += static_cast<std::uint64_t>(std::popcount(a[w] & b[w]));
          pc.both += n;
        }
        const std::uint64_t lo = static_cast<std::uint64_t>(std::max(g[i]->row_begin, g[j]->row_begin));
        const std::uint64_t hi = static_cast<std::uint64_t>(std::min(g[i]->row_end, g[j]->row_end));
        pc.a_common += count_in_range(a, prefix.data() + i * (words + 1), words, base, lo, hi);
        pc.b_common += count_in_range(b, prefix.data() + j * (words + 1), words, base, lo, hi);
      }
    });
    const std::uint64_t reached = std::min(base + opt.block_rows, row_hi);
    if (reached > done_rows) {
      progress.advance(reached - done_rows);
      done_rows = reached;
    }
  }
  progress.finish();

  ordered_json j;
  j["data"] = g.front()->data_key;
  ordered_json cps = ordered_json::array();
  for (std::size_t c = 0; c < k; ++c) {
    const ScanEntry& s = *g[c];
    cps.push_back({{"id", c},
                   {"folder", s.folder},
                   {"model", s.model},
                   {"revision", s.revision},
                   {"step", s.step ? ordered_json(*s.step) : ordered_json(nullptr)},
                   {"row_range", {s.row_begin, s.row_end}},
                   {"rows_scanned", s.rows_scanned},
                   {"memorized", total[c]},
                   {"rate", num_or_null(ratio(total[c], static_cast<std::uint64_t>(s.rows_scanned)))}});
    if (with_dedup) {
      ordered_json bd = ordered_json::array();
      for (int b = 0; b < kBuckets; ++b) {
        const std::uint64_t n = by_bucket[c].rows[static_cast<std::size_t>(b)];
        const std::uint64_t m = by_bucket[c].memorized[static_cast<std::size_t>(b)];
        if (n == 0 && m == 0) continue;
        const bool unknown = b == kUnknown;
        bd.push_back({{"count_min", unknown ? ordered_json(nullptr) : ordered_json(b == 0 ? 1 : (1ull << (b - 1)) + 1)},
                      {"count_max", unknown ? ordered_json(nullptr) : ordered_json(b == 0 ? 1 : 1ull << b)},
                      {"rows", n},
                      {"memorized", m},
                      {"rate", num_or_null(ratio(m, n))}});
      }
      cps.back()["by_duplicates"] = std::move(bd);
    }
  }
  j["checkpoints"] = std::move(cps);
  ordered_json pj = ordered_json::array();
  for (std::size_t a = 0; a < k; ++a) {
    for (std::size_t b = a + 1; b < k; ++b) {
      const PairCounts& pc = pairs[a * k + b];
      const std::int64_t lo = std::max(g[a]->row_begin, g[b]->row_begin);
      const std::int64_t hi = std::min(g[a]->row_end, g[b]->row_end);
      pj.push_back({{"a", a},
                    {"b", b},
                    {"n_a", total[a]},
                    {"n_b", total[b]},
                    {"n_ab", pc.both},
                    {"precision", num_or_null(ratio(pc.both, total[a]))},
                    {"recall", num_or_null(ratio(pc.both, total[b]))},
                    {"gained", total[b] - pc.both},
                    {"forgotten", total[a] - pc.both},
                    {"common",
                     {{"row_range", {lo, std::max(lo, hi)}},
                      {"n_a", pc.a_common},
                      {"n_b", pc.b_common},
                      {"precision", num_or_null(ratio(pc.both, pc.a_common))},
                      {"recall", num_or_null(ratio(pc.both, pc.b_common))}}}});
    }
  }
  j["pairs"] = std::move(pj);
  // Per model, in step order: rate and the change since the previous checkpoint.
  ordered_json traj = ordered_json::object();
  std::map<std::string, std::size_t> last;
  for (std::size_t c = 0; c < k; ++c) {
    const ScanEntry& s = *g[c];
    ordered_json e = {{"id", c},
                      {"revision", s.revision},
                      {"step", s.step ? ordered_json(*s.step) : ordered_json(nullptr)},
                      {"memorized", total[c]},
                      {"rate", num_or_null(ratio(total[c], static_cast<std::uint64_t>(s.rows_scanned)))}};
    if (const auto it = last.find(s.model); it != last.end()) {
      const PairCounts& pc = pairs[it->second * k + c];
      e["gained"] = total[c] - pc.both;
      e["forgotten"] = total[it->second] - pc.both;
      e["kept"] = pc.both;
    } else {
      e["gained"] = total[c];
      e["forgotten"] = 0;
      e["kept"] = 0;
    }
    last[s.model] = c;
    traj[s.model].push_back(std::move(e));
  }
  j["trajectory"] = std::move(traj);
  return j;
}

}  // namespace

ordered_json analyze_scans(const std::vector<ScanEntry>& scans, const AnalysisOptions& opt) {
  if (opt.block_rows == 0 || opt.block_rows % 64 != 0) throw UsageError("block rows must be a positive multiple of 64");
  ordered_json out;
  out["format"] = "pythia-harness memorization-analysis v1";
  out["min_score"] = opt.min_score;
  out["memorized_means"] = "score >= min_score";
  ordered_json groups = ordered_json::array();
  std::size_t i = 0;
  while (i < scans.size()) {
    std::vector<const ScanEntry*> g;
    std::size_t j = i;
    for (; j < scans.size() && scans[j].data_key == scans[i].data_key; ++j) g.push_back(&scans[j]);
    groups.push_back(analyze_group(g, opt));
    i = j;
  }
  out["groups"] = std::move(groups);
  return out;
}

ordered_json analyze_tree(const fs::path& root, const AnalysisOptions& opt) {
  const std::vector<ScanEntry> scans = find_scans(root);
  if (scans.empty()) throw DataError(root.string(), "holds no memorization.json (is it a sweep or memorize output?)");
  return analyze_scans(scans, opt);
}

}  // namespace pythia::memorization

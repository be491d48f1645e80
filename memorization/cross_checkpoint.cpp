// Cross-checkpoint memorized-set analysis: see cross_checkpoint.h.
#include "memorization/cross_checkpoint.h"

#include <algorithm>
#include <bit>
#include <map>
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

std::uint64_t estimate_memory_bytes(std::size_t k, std::uint64_t block_rows) {
  const std::uint64_t words = block_rows / 64;
  const std::uint64_t per_scan = words * 8 + (words + 1) * 4 + 200 * 1024;
  return k * per_scan + k * k * sizeof(PairCounts);
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
  for (;;) {
    std::uint64_t first = kEndOfRows;
    for (auto& r : rows) first = std::min(first, r.peek());
    if (first == kEndOfRows) break;
    const std::uint64_t base = first / opt.block_rows * opt.block_rows;
    std::fill(bits.begin(), bits.end(), 0);
    tbb::parallel_for(std::size_t{0}, k, [&](std::size_t c) {
      std::uint64_t* b = bits.data() + c * words;
      block_count[c] = rows[c].fill(base, base + opt.block_rows, b);
      std::uint32_t* p = prefix.data() + c * (words + 1);
      p[0] = 0;
      for (std::uint64_t w = 0; w < words; ++w) p[w + 1] = p[w] + static_cast<std::uint32_t>(std::popcount(b[w]));
    });
    for (std::size_t c = 0; c < k; ++c) total[c] += block_count[c];
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

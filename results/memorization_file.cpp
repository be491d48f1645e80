#include "results/memorization_file.h"

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include "data/error.h"
#include "results/json_bounded.h"

namespace pythia::results {
namespace {

std::string shortest(float v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

nlohmann::ordered_json index_array(const std::vector<std::uint64_t>& v) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (auto i : v) a.push_back(i);
  return a;
}

}  // namespace

std::string format_score(int k, int L) {
  // torch: (a == b).float().mean(-1) is a float32; str() of its item() is repr(double(float32)).
  const double v = static_cast<double>(static_cast<float>(k) / static_cast<float>(L));
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  std::string s(buf, res.ptr);
  if (s.find('.') == std::string::npos) s += ".0";
  return s;
}

std::string csv_line(const RowScore& r, int continuation_len) {
  std::string s = std::to_string(r.index);
  s += ',';
  s += r.nan ? "nan" : format_score(r.matches, continuation_len);
  s += '\n';
  return s;
}

std::string extended_csv_header() {
  return "index,score,memorized,first_mismatch,min_margin,fragile,eod_in_target,unseen\n";
}

std::string extended_csv_line(const RowScore& r, int continuation_len, double tau, bool unseen) {
  std::string s = std::to_string(r.index) + ",";
  if (r.nan) {
    s += "nan";
  } else if (r.score_known) {
    s += format_score(r.matches, continuation_len);
  }
  s += r.memorized ? ",1," : ",0,";
  s += std::to_string(r.first_mismatch) + "," + shortest(r.min_margin) + ",";
  s += (r.min_margin < tau) ? "1," : "0,";
  s += r.eod_in_target ? "1," : "0,";
  s += unseen ? "1\n" : "0\n";
  return s;
}

void ScanSummary::add(const RowScore& r, double tau, bool unseen) {
  ++rows_scanned;
  if (unseen) ++rows_unseen;
  if (r.eod_in_target) ++rows_eod_in_target;
  if (r.nan) {
    ++rows_nan;
    nan_rows.push_back(r.index);
    return;
  }
  if (r.score_known) {
    ++rows_score_known;
    ++histogram.at(static_cast<std::size_t>(r.matches));
  }
  const bool fragile = r.min_margin < tau;
  if (fragile) near_tie.push_back(r.index);
  if (r.memorized) {
    ++rows_memorized;
    memorized.push_back(r.index);
    if (fragile) memorized_near_tie.push_back(r.index);
  }
}

void ScanSummary::append(const ScanSummary& o) {
  rows_scanned += o.rows_scanned;
  rows_memorized += o.rows_memorized;
  rows_nan += o.rows_nan;
  rows_unseen += o.rows_unseen;
  rows_eod_in_target += o.rows_eod_in_target;
  rows_score_known += o.rows_score_known;
  if (histogram.size() != o.histogram.size()) throw std::logic_error("ScanSummary::append: histogram sizes");
  for (std::size_t k = 0; k < histogram.size(); ++k) histogram[k] += o.histogram[k];
  for (const auto& pair : {std::pair{&memorized, &o.memorized}, std::pair{&near_tie, &o.near_tie},
                     std::pair{&memorized_near_tie, &o.memorized_near_tie}, std::pair{&nan_rows, &o.nan_rows}}) {
    pair.first->insert(pair.first->end(), pair.second->begin(), pair.second->end());
  }
}

std::optional<double> ScanSummary::mean_score() const {
  std::uint64_t rows = 0, matches = 0;
  for (std::size_t k = 0; k < histogram.size(); ++k) {
    rows += histogram[k];
    matches += histogram[k] * k;
  }
  if (rows == 0) return std::nullopt;
  const double L = static_cast<double>(histogram.size() - 1);
  return static_cast<double>(matches) / (static_cast<double>(rows) * L);
}

namespace {

void pretty(const nlohmann::ordered_json& j, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent) + 2, ' ');
  if (j.is_object() && !j.empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& [k, v] : j.items()) {
      if (!first) out += ",\n";
      first = false;
      out += pad + nlohmann::ordered_json(k).dump() + ": ";
      pretty(v, indent + 2, out);
    }
    out += "\n" + std::string(static_cast<std::size_t>(indent), ' ') + "}";
  } else if (j.is_array() && !j.empty() &&
             std::any_of(j.begin(), j.end(), [](const auto& v) { return v.is_structured(); })) {
    out += "[\n";
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (i > 0) out += ",\n";
      out += pad;
      pretty(j[i], indent + 2, out);
    }
    out += "\n" + std::string(static_cast<std::size_t>(indent), ' ') + "]";
  } else if (j.is_array()) {
    out += "[";
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (i > 0) out += ", ";
      out += j[i].dump();
    }
    out += "]";
  } else {
    out += j.dump();
  }
}

}  // namespace

std::string pretty_json(const nlohmann::ordered_json& j) {
  std::string out;
  pretty(j, 0, out);
  out += "\n";
  return out;
}

void set_summary_fields(nlohmann::ordered_json& j, const ScanSummary& s, bool exact) {
  using J = nlohmann::ordered_json;
  j["rows_scanned"] = s.rows_scanned;
  j["rows_memorized"] = s.rows_memorized;
  j["rows_flagged_nan"] = s.rows_nan;
  j["rows_unseen"] = s.rows_unseen;
  j["rows_eod_in_target"] = s.rows_eod_in_target;
  const auto mean = s.mean_score();
  j["mean_score"] = (exact && mean) ? J(*mean) : J(nullptr);
  if (exact) {
    J h = J::array();
    for (auto v : s.histogram) h.push_back(v);
    j["histogram"] = h;
  } else {
    j["histogram"] = nullptr;  // unknown: non-memorized rows are not decoded in this mode
  }
  j["memorized_indices"] = index_array(s.memorized);
  j["near_tie_rows"] = index_array(s.near_tie);
  j["memorized_near_tie_rows"] = index_array(s.memorized_near_tie);
  j["flagged_nan_rows"] = index_array(s.nan_rows);
}

nlohmann::ordered_json memorization_json(const ScanMeta& meta, const ScanSummary& s,
                                         nlohmann::ordered_json run, nlohmann::ordered_json timing) {
  using J = nlohmann::ordered_json;
  const bool exact = meta.exact_score;
  J j;
  j["format"] = "pythia-harness memorization v1";
  j["harness_version"] = "0.1.0";
  j["model"] = meta.model;
  j["revision"] = meta.revision;
  j["step"] = meta.step ? J(*meta.step) : J(nullptr);
  if (meta.identity) j[kModelIdentityKey] = to_json(*meta.identity);
  j["data"] = meta.data;
  j["row_range"] = J::array({meta.row_begin, meta.row_end});
  j["sequences_per_step"] = meta.sequences_per_step;
  j["prefix_len"] = meta.prefix_len;
  j["continuation_len"] = meta.continuation_len;
  j["eod_policy"] = meta.eod_policy;
  j["score_mode"] = exact ? "exact" : "memorized-only";
  j["tau"] = meta.tau;
  j["compute"] = J{{"dtype", meta.compute_dtype}, {"backend", meta.backend}};
  set_summary_fields(j, s, exact);
  j["files"] = J{{"scores", exact ? J(kScoresCsv) : J(nullptr)},
                 {"extended", meta.extended_csv ? J(kExtendedCsv) : J(nullptr)}};
  if (meta.token_stats) j["files"]["token_stats"] = "memorization_token_stats.bin";
  if (meta.memorized_evals) j["files"]["memorized_evals"] = "memorized_evals.jsonl.gz";
  j["run"] = std::move(run);
  j["timing"] = std::move(timing);
  return j;
}

ScanSummary summary_from_json(const nlohmann::ordered_json& j, const std::string& file) {
  // Integers through json_int (a float such as 1e300 converted by get<> is UB: fuzz finding F1),
  // its ResultsFileError turned into this function's DataError.
  const auto count = [&](const char* key, std::int64_t lo, std::int64_t hi) {
    try {
      return json_int(j.at(key), file, key, lo, hi);
    } catch (const ResultsFileError& e) {
      throw DataError(e.what());
    }
  };
  const auto counts = [&](const char* key) {
    const auto& a = j.at(key);
    if (!a.is_array()) throw DataError(file, std::string("not a complete memorization.json: '") + key + "' is not an array");
    std::vector<std::uint64_t> out;
    out.reserve(a.size());
    for (const auto& v : a) {
      try {
        out.push_back(static_cast<std::uint64_t>(json_int(v, file, key + std::string("[]"), 0)));
      } catch (const ResultsFileError& e) {
        throw DataError(e.what());
      }
    }
    return out;
  };
  try {
    // L <= 65535: the journal stores first_mismatch in 16 bits (memorization/journal.h).
    const int L = static_cast<int>(count("continuation_len", 1, 65535));
    ScanSummary s(L);
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    s.rows_scanned = static_cast<std::uint64_t>(count("rows_scanned", 0, kMax));
    s.rows_memorized = static_cast<std::uint64_t>(count("rows_memorized", 0, kMax));
    s.rows_nan = static_cast<std::uint64_t>(count("rows_flagged_nan", 0, kMax));
    s.rows_unseen = static_cast<std::uint64_t>(count("rows_unseen", 0, kMax));
    s.rows_eod_in_target = static_cast<std::uint64_t>(count("rows_eod_in_target", 0, kMax));
    if (j.at("histogram").is_array()) {
      s.histogram = counts("histogram");
      if (s.histogram.size() != static_cast<std::size_t>(L) + 1) throw DataError(file, "histogram size");
    }
    s.rows_score_known = 0;
    for (auto v : s.histogram) s.rows_score_known += v;
    s.memorized = counts("memorized_indices");
    s.near_tie = counts("near_tie_rows");
    s.memorized_near_tie = counts("memorized_near_tie_rows");
    s.nan_rows = counts("flagged_nan_rows");
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw DataError(file, std::string("not a complete memorization.json: ") + e.what());
  }
}

}  // namespace pythia::results

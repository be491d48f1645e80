// See compare.h.
#include "results/compare.h"

#include "results/published_evals.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace pythia::results {
namespace {

using Status = CompareRow::Status;

bool perplexity_like(const std::string& metric) {
  return metric.find("perplexity") != std::string::npos || metric == "ppl" ||
         metric.find("bits_per_byte") != std::string::npos;
}

std::string fmt_num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

const ToleranceRule* find_override(const CompareOptions& o, const std::string& task,
                                   const std::string& metric) {
  auto it = o.overrides.find(task + "/" + metric);
  if (it != o.overrides.end()) return &it->second;
  it = o.overrides.find(metric);
  return it != o.overrides.end() ? &it->second : nullptr;
}

// Fills allowed/rule/status of a row whose both values exist.
void judge(CompareRow& row, double allowed, const std::string& rule, bool higher_is_better,
           const CompareOptions& o) {
  row.diff = *row.candidate - *row.baseline;
  row.allowed = allowed;
  row.rule = rule;
  const bool both_nan = std::isnan(*row.baseline) && std::isnan(*row.candidate);
  const bool same_inf = std::isinf(*row.baseline) && *row.baseline == *row.candidate;
  if (both_nan || same_inf) {
    row.diff = 0.0;
    row.status = Status::kOk;
    return;
  }
  double bad = std::fabs(row.diff);
  if (o.one_sided) bad = higher_is_better ? -row.diff : row.diff;
  row.status = (std::isfinite(row.diff) && bad <= allowed) ? Status::kOk : Status::kOutOfTolerance;
}

double apply_rule(const ToleranceRule& r, double baseline, double stderr_max, double floor,
                  std::string& text) {
  switch (r.kind) {
    case ToleranceRule::Kind::kAbs:
      text = "abs " + fmt_num(r.value);
      return r.value;
    case ToleranceRule::Kind::kRel:
      text = "rel " + fmt_num(r.value);
      return std::max(floor, r.value * std::fabs(baseline));
    case ToleranceRule::Kind::kStderr:
      text = fmt_num(r.value) + "x stderr";
      return std::max(floor, r.value * stderr_max);
  }
  return floor;
}

CompareRow missing_row(const std::string& where, const std::string& task, const std::string& metric,
                       std::optional<double> b, std::optional<double> c) {
  CompareRow row;
  row.where = where;
  row.task = task;
  row.metric = metric;
  row.baseline = b;
  row.candidate = c;
  row.rule = std::string(1, '-');
  row.status = b ? Status::kMissing : Status::kNew;
  return row;
}

void exact_count(CompareResult& out, const std::string& where, const std::string& metric, double b,
                 double c, double allowed) {
  CompareRow row;
  row.where = where;
  row.task = "memorization";
  row.metric = metric;
  row.baseline = b;
  row.candidate = c;
  row.diff = c - b;
  row.allowed = allowed;
  row.rule = allowed == 0 ? "exact" : "abs " + fmt_num(allowed);
  row.status = std::fabs(row.diff) <= allowed ? Status::kOk : Status::kOutOfTolerance;
  out.rows.push_back(row);
}

std::string list_head(const std::vector<std::int64_t>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < 8; ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  if (v.size() > 8) s += ", ...";
  return s;
}

}  // namespace

ToleranceRule parse_tolerance_rule(const std::string& spec) {
  const auto colon = spec.find(':');
  if (colon == std::string::npos) {
    throw std::invalid_argument("tolerance '" + spec + "': expected abs:X, rel:X or stderr:F");
  }
  const std::string kind = spec.substr(0, colon), num = spec.substr(colon + 1);
  ToleranceRule r;
  if (kind == "abs") {
    r.kind = ToleranceRule::Kind::kAbs;
  } else if (kind == "rel") {
    r.kind = ToleranceRule::Kind::kRel;
  } else if (kind == "stderr") {
    r.kind = ToleranceRule::Kind::kStderr;
  } else {
    throw std::invalid_argument("tolerance '" + spec + "': kind must be abs, rel or stderr");
  }
  std::size_t used = 0;
  try {
    r.value = std::stod(num, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != num.size() || !(r.value >= 0) || !std::isfinite(r.value)) {
    throw std::invalid_argument("tolerance '" + spec + "': '" + num + "' is not a number >= 0");
  }
  return r;
}

int CompareResult::failures() const {
  int n = 0;
  for (const CompareRow& r : rows) {
    if (r.status == Status::kOutOfTolerance || r.status == Status::kMissing) ++n;
  }
  return n;
}

CompareResult compare_eval(const EvalFile& baseline, const EvalFile& candidate,
                           const std::string& where, const CompareOptions& o) {
  CompareResult out;
  std::unordered_map<std::string, const TaskResult*> cand_tasks;
  for (const TaskResult& t : candidate.run.tasks) cand_tasks[t.task] = &t;
  std::set<std::string> seen_tasks;
  for (const TaskResult& bt : baseline.run.tasks) {
    seen_tasks.insert(bt.task);
    const auto it = cand_tasks.find(bt.task);
    const TaskResult* ct = it == cand_tasks.end() ? nullptr : it->second;
    for (const MetricValue& bm : bt.metrics) {
      const MetricValue* cm = nullptr;
      if (ct != nullptr) {
        for (const MetricValue& m : ct->metrics) {
          if (m.name == bm.name) cm = &m;
        }
      }
      if (cm == nullptr) {
        out.rows.push_back(missing_row(where, bt.task, bm.name, bm.value, std::nullopt));
        continue;
      }
      CompareRow row;
      row.where = where;
      row.task = bt.task;
      row.metric = bm.name;
      row.baseline = bm.value;
      row.candidate = cm->value;
      const double se = std::max(bm.stderr_value.value_or(0.0), cm->stderr_value.value_or(0.0));
      const bool has_se = bm.stderr_value.has_value() || cm->stderr_value.has_value();
      std::string text;
      double allowed = o.abs_floor;
      if (const ToleranceRule* r = find_override(o, bt.task, bm.name)) {
        allowed = apply_rule(*r, bm.value, se, 0.0, text);
      } else if (perplexity_like(bm.name)) {
        allowed = std::max(o.abs_floor, o.rel * std::fabs(bm.value));
        text = "rel " + fmt_num(o.rel);
      } else if (has_se) {
        allowed = std::max(o.abs_floor, o.stderr_factor * se);
        text = fmt_num(o.stderr_factor) + "x stderr";
      } else {
        text = "abs " + fmt_num(o.abs_floor);
      }
      judge(row, allowed, text, bm.higher_is_better, o);
      out.rows.push_back(row);

      if (o.check_stderr && (bm.stderr_value || cm->stderr_value)) {
        const std::string name = bm.name + "_stderr";
        if (!bm.stderr_value || !cm->stderr_value) {
          out.rows.push_back(missing_row(where, bt.task, name, bm.stderr_value, cm->stderr_value));
          if (!cm->stderr_value) out.rows.back().status = Status::kMissing;
          continue;
        }
        CompareRow sr;
        sr.where = where;
        sr.task = bt.task;
        sr.metric = name;
        sr.baseline = *bm.stderr_value;
        sr.candidate = *cm->stderr_value;
        std::string stext;
        double sallowed;
        if (const ToleranceRule* r = find_override(o, bt.task, name)) {
          sallowed = apply_rule(*r, *bm.stderr_value, 0.0, 0.0, stext);
        } else {
          sallowed = std::max(o.abs_floor, o.stderr_rel * std::fabs(*bm.stderr_value));
          stext = "rel " + fmt_num(o.stderr_rel);
        }
        CompareOptions two_sided = o;
        two_sided.one_sided = false;
        judge(sr, sallowed, stext, false, two_sided);
        out.rows.push_back(sr);
      }
    }
    if (ct != nullptr) {
      for (const MetricValue& cm : ct->metrics) {
        const bool in_base = std::any_of(bt.metrics.begin(), bt.metrics.end(),
                                         [&](const MetricValue& m) { return m.name == cm.name; });
        if (!in_base) out.rows.push_back(missing_row(where, bt.task, cm.name, std::nullopt, cm.value));
      }
    }
  }
  for (const TaskResult& ct : candidate.run.tasks) {
    if (seen_tasks.count(ct.task)) continue;
    for (const MetricValue& cm : ct.metrics) {
      out.rows.push_back(missing_row(where, ct.task, cm.name, std::nullopt, cm.value));
    }
  }
  return out;
}

CompareResult compare_memorization(const MemorizationResult& b, const MemorizationResult& c,
                                   const std::string& where, const CompareOptions& o) {
  CompareResult out;
  const double rows_allowed = static_cast<double>(o.max_changed_rows);
  exact_count(out, where, "row_begin", static_cast<double>(b.row_begin),
              static_cast<double>(c.row_begin), 0);
  exact_count(out, where, "row_end", static_cast<double>(b.row_end), static_cast<double>(c.row_end), 0);
  exact_count(out, where, "rows_scanned", static_cast<double>(b.rows_scanned),
              static_cast<double>(c.rows_scanned), 0);
  exact_count(out, where, "rows_memorized", static_cast<double>(b.rows_memorized),
              static_cast<double>(c.rows_memorized), rows_allowed);
  // Rows whose logits went non-finite (results/memorization_file.h "rows_flagged_nan").
  if (b.raw.contains("rows_flagged_nan") && c.raw.contains("rows_flagged_nan") &&
      b.raw["rows_flagged_nan"].is_number() && c.raw["rows_flagged_nan"].is_number()) {
    exact_count(out, where, "rows_flagged_nan", b.raw["rows_flagged_nan"].get<double>(),
                c.raw["rows_flagged_nan"].get<double>(), rows_allowed);
  }
  if (b.mean_score || c.mean_score) {
    if (b.mean_score && c.mean_score) {
      CompareRow row;
      row.where = where;
      row.task = "memorization";
      row.metric = "mean_score";
      row.baseline = *b.mean_score;
      row.candidate = *c.mean_score;
      const ToleranceRule* r = find_override(o, "memorization", "mean_score");
      std::string text = "abs " + fmt_num(o.mean_score_abs);
      const double allowed = r ? apply_rule(*r, *b.mean_score, 0.0, 0.0, text) : o.mean_score_abs;
      CompareOptions two_sided = o;
      two_sided.one_sided = false;
      judge(row, allowed, text, true, two_sided);
      out.rows.push_back(row);
    } else {
      out.rows.push_back(missing_row(where, "memorization", "mean_score", b.mean_score, c.mean_score));
      if (!c.mean_score) out.rows.back().status = Status::kMissing;
    }
  }
  if (!b.histogram.empty() || !c.histogram.empty()) {
    const std::size_t n = std::max(b.histogram.size(), c.histogram.size());
    for (std::size_t k = 0; k < n; ++k) {
      const double bv = k < b.histogram.size() ? static_cast<double>(b.histogram[k]) : 0.0;
      const double cv = k < c.histogram.size() ? static_cast<double>(c.histogram[k]) : 0.0;
      if (bv == 0 && cv == 0) continue;  // keep the table short
      exact_count(out, where, "histogram[" + std::to_string(k) + "/32]", bv, cv, rows_allowed);
    }
  }
  // The memorized row sets.
  std::vector<std::int64_t> only_b, only_c;
  std::set_difference(b.memorized_indices.begin(), b.memorized_indices.end(),
                      c.memorized_indices.begin(), c.memorized_indices.end(),
                      std::back_inserter(only_b));
  std::set_difference(c.memorized_indices.begin(), c.memorized_indices.end(),
                      b.memorized_indices.begin(), b.memorized_indices.end(),
                      std::back_inserter(only_c));
  exact_count(out, where, "memorized_set_changes", 0.0,
              static_cast<double>(only_b.size() + only_c.size()), rows_allowed);
  if (!only_b.empty()) out.notes.push_back(where + ": memorized only in baseline: " + list_head(only_b));
  if (!only_c.empty()) out.notes.push_back(where + ": memorized only in new: " + list_head(only_c));
  // Per-row scores.
  if (o.compare_scores_csv && !b.scores_path.empty() && !c.scores_path.empty()) {
    const auto bs = read_memorization_scores(b.scores_path);
    const auto cs = read_memorization_scores(c.scores_path);
    std::unordered_map<std::int64_t, double> cmap;
    cmap.reserve(cs.size());
    for (const auto& [i, s] : cs) cmap[i] = s;
    std::vector<std::int64_t> changed;
    std::int64_t missing = 0;
    for (const auto& [i, s] : bs) {
      const auto it = cmap.find(i);
      if (it == cmap.end()) {
        ++missing;
      } else if (it->second != s) {
        changed.push_back(i);
      }
    }
    exact_count(out, where, "score_rows_changed", 0.0, static_cast<double>(changed.size()),
                rows_allowed);
    exact_count(out, where, "score_rows_missing", 0.0, static_cast<double>(missing), 0);
    if (!changed.empty()) out.notes.push_back(where + ": rows whose score changed: " + list_head(changed));
  }
  return out;
}

namespace {

// Evals by checkpoint label; a second file of the same checkpoint is noted and left out.
std::map<std::string, const EvalFile*> by_checkpoint(const ResultTree& t, const std::string& side,
                                                     std::vector<std::string>& notes) {
  std::map<std::string, const EvalFile*> m;
  for (const auto& [key, f] : t.evals) {
    const std::string label = checkpoint_label(eval_checkpoint(f, key));
    if (!m.emplace(label, &f).second) {
      notes.push_back(side + ": " + f.path.string() + " is a second file of " + label + " (" +
                      m[label]->path.string() + " is used)");
    }
  }
  return m;
}

// The tasks of `f` that `other` also has.
EvalFile common_tasks(const EvalFile& f, const EvalFile& other) {
  EvalFile out = f;
  out.run.tasks.clear();
  for (const TaskResult& t : f.run.tasks) {
    for (const TaskResult& u : other.run.tasks) {
      if (u.task == t.task) out.run.tasks.push_back(t);
    }
  }
  return out;
}

}  // namespace

CompareResult compare_trees(const ResultTree& baseline, const ResultTree& candidate,
                            const CompareOptions& o) {
  CompareResult out;
  auto append = [&out](CompareResult&& r) {
    for (auto& row : r.rows) out.rows.push_back(std::move(row));
    for (auto& n : r.notes) out.notes.push_back(std::move(n));
  };
  if (baseline.published || candidate.published) {
    const auto b = by_checkpoint(baseline, "baseline", out.notes);
    const auto c = by_checkpoint(candidate, "new", out.notes);
    int only_b = 0, only_c = 0, matched = 0;
    for (const auto& [label, bf] : b) {
      const auto it = c.find(label);
      if (it == c.end()) {
        ++only_b;
        continue;
      }
      ++matched;
      const EvalFile bc = common_tasks(*bf, *it->second), cc = common_tasks(*it->second, *bf);
      const std::size_t skipped = bf->run.tasks.size() + it->second->run.tasks.size() - 2 * bc.run.tasks.size();
      if (skipped > 0) {
        out.notes.push_back(label + ": " + std::to_string(bc.run.tasks.size()) + " task(s) on both sides compared, " +
                            std::to_string(bf->run.tasks.size() - bc.run.tasks.size()) + " only in baseline, " +
                            std::to_string(it->second->run.tasks.size() - cc.run.tasks.size()) + " only in new");
      }
      append(compare_eval(bc, cc, label, o));
    }
    for (const auto& [label, cf] : c) only_c += b.count(label) ? 0 : 1;
    out.notes.push_back("matched by checkpoint (size, step, num_fewshot): " + std::to_string(matched) +
                        " checkpoint(s) on both sides, " + std::to_string(only_b) + " only in baseline, " +
                        std::to_string(only_c) + " only in new (not compared)");
    if (matched == 0) {
      CompareRow row = missing_row("(no common checkpoint)", "(eval results)", "-", 1.0, std::nullopt);
      out.rows.push_back(row);
    }
    return out;
  }
  // A single file on either side (folder key "."): compare it with the other side's only result
  // of the same kind, whatever its folder (e.g. lm-eval's results_<ts>.json against a tree).
  const bool b_file = baseline.evals.count(".") || baseline.memorizations.count(".");
  const bool c_file = candidate.evals.count(".") || candidate.memorizations.count(".");
  if (b_file || c_file) {
    bool any = false;
    if (baseline.evals.size() == 1 && candidate.evals.size() == 1) {
      append(compare_eval(baseline.evals.begin()->second, candidate.evals.begin()->second,
                          baseline.evals.begin()->first, o));
      any = true;
    }
    if (baseline.memorizations.size() == 1 && candidate.memorizations.size() == 1) {
      append(compare_memorization(baseline.memorizations.begin()->second,
                                  candidate.memorizations.begin()->second,
                                  baseline.memorizations.begin()->first, o));
      any = true;
    }
    if (any) return out;
  }
  for (const auto& [key, bf] : baseline.evals) {
    const auto it = candidate.evals.find(key);
    if (it == candidate.evals.end()) {
      out.rows.push_back(missing_row(key, "(eval results)", bf.path.filename().string(), 1.0,
                                     std::nullopt));
      continue;
    }
    append(compare_eval(bf, it->second, key, o));
  }
  for (const auto& [key, cf] : candidate.evals) {
    if (!baseline.evals.count(key)) {
      out.rows.push_back(missing_row(key, "(eval results)", cf.path.filename().string(),
                                     std::nullopt, 1.0));
    }
  }
  for (const auto& [key, bm] : baseline.memorizations) {
    const auto it = candidate.memorizations.find(key);
    if (it == candidate.memorizations.end()) {
      out.rows.push_back(missing_row(key, "memorization", "memorization.json", 1.0, std::nullopt));
      continue;
    }
    append(compare_memorization(bm, it->second, key, o));
  }
  for (const auto& [key, cm] : candidate.memorizations) {
    if (!baseline.memorizations.count(key)) {
      out.rows.push_back(missing_row(key, "memorization", "memorization.json", std::nullopt, 1.0));
    }
  }
  return out;
}

std::string format_compare_table(const CompareResult& result, bool only_problems) {
  auto val = [](const std::optional<double>& v) { return v ? fmt_num(*v) : std::string("-"); };
  auto status_text = [](Status s) {
    switch (s) {
      case Status::kOk: return "ok";
      case Status::kOutOfTolerance: return "REGRESSION";
      case Status::kMissing: return "MISSING";
      case Status::kNew: return "new";
    }
    return "?";
  };
  std::vector<std::vector<std::string>> cells;
  cells.push_back({"where", "task", "metric", "baseline", "new", "diff", "allowed", "rule", "status"});
  int ok = 0, bad = 0, missing = 0, added = 0;
  for (const CompareRow& r : result.rows) {
    switch (r.status) {
      case Status::kOk: ++ok; break;
      case Status::kOutOfTolerance: ++bad; break;
      case Status::kMissing: ++missing; break;
      case Status::kNew: ++added; break;
    }
    if (only_problems && r.status == Status::kOk) continue;
    const bool both = r.baseline && r.candidate;
    cells.push_back({r.where, r.task, r.metric, val(r.baseline), val(r.candidate),
                     both ? fmt_num(r.diff) : "-", both ? fmt_num(r.allowed) : "-", r.rule,
                     status_text(r.status)});
  }
  std::vector<std::size_t> width(cells[0].size(), 0);
  for (const auto& row : cells) {
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (std::size_t r = 0; r < cells.size(); ++r) {
    for (std::size_t i = 0; i < cells[r].size(); ++i) {
      out += cells[r][i];
      if (i + 1 < cells[r].size()) out += std::string(width[i] - cells[r][i].size() + 2, ' ');
    }
    out += '\n';
    if (r == 0) {
      for (std::size_t i = 0; i < width.size(); ++i) out += std::string(width[i], '-') + (i + 1 < width.size() ? "  " : "");
      out += '\n';
    }
  }
  for (const std::string& n : result.notes) out += "note: " + n + "\n";
  out += std::to_string(result.rows.size()) + " values compared: " + std::to_string(ok) +
         " ok, " + std::to_string(bad) + " out of tolerance, " + std::to_string(missing) +
         " missing in new, " + std::to_string(added) + " only in new\n";
  return out;
}

}  // namespace pythia::results

// See report_html.h.
#include "results/report_html.h"

#include "data/checkpoint_step.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <set>

#include "results/analysis_html.h"
#include "results/canaries.h"
#include "results/model_identity.h"
#include "results/published_evals.h"
#include "results/svg_plot.h"

namespace pythia::results {
namespace {

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Checkpoint {
  std::string model, revision, key;
  std::optional<std::int64_t> step;
};

Checkpoint checkpoint_of(const std::string& key, const std::string& revision_hint,
                         const std::string& model_hint) {
  Checkpoint c;
  c.key = key;
  const auto slash = key.rfind('/');
  if (slash != std::string::npos) {
    c.model = key.substr(0, slash);
    c.revision = key.substr(slash + 1);
  } else {
    c.model = model_hint.empty() ? key : model_hint;
    c.revision = revision_hint.empty() ? key : revision_hint;
  }
  if (!revision_hint.empty() && !data::step_of_revision(c.revision)) c.revision = revision_hint;
  c.step = data::step_of_revision(c.revision);
  return c;
}

bool before(const Checkpoint& a, const Checkpoint& b) {
  const std::int64_t sa = a.step.value_or(-1), sb = b.step.value_or(-1);
  if (sa != sb) return sa < sb;
  return a.revision < b.revision;
}

std::string fmt(double v, int digits = 4) {
  if (std::isnan(v)) return "–";
  char buf[48];
  if (std::fabs(v) >= 1e5 || (v != 0 && std::fabs(v) < 1e-3)) {
    std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
  } else {
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  }
  return buf;
}

const char* kStyle = R"(<style>
body{font-family:sans-serif;margin:24px;color:#222;max-width:1250px}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
h3{font-size:15px}
table{border-collapse:collapse;font-size:12px;margin:8px 0 16px;display:block;overflow-x:auto;max-width:100%}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child,td:nth-child(2){text-align:left}
.plots{display:flex;flex-wrap:wrap;gap:8px}
figure{margin:0}
svg.plot{font-size:11px;background:#fff}
svg .pt{font-size:13px;font-weight:bold}
svg .frame{fill:none;stroke:#888}
svg .grid{stroke:#e4e4e4}
svg .brk{stroke:#888;fill:none}
svg .brkline{stroke:#bbb;stroke-dasharray:3 3}
.note{color:#555;font-size:12px}
</style>
)";

}  // namespace

fs::path find_canary_manifest(const MemorizationResult& m, const fs::path& tree_root) {
  if (m.data_prefix.empty()) return {};
  const fs::path prefix(m.data_prefix);
  std::vector<fs::path> bases;
  if (prefix.is_absolute()) {
    bases.push_back(prefix);
  } else {
    bases.push_back(fs::current_path() / prefix);
    bases.push_back(tree_root / prefix);
    bases.push_back(m.path.parent_path() / prefix);
  }
  std::error_code ec;
  for (const fs::path& b : bases) {
    const fs::path c = b.parent_path() / "canaries.json";
    if (fs::is_regular_file(c, ec)) return c;
  }
  return {};
}

// Checkpoints of one model whose recorded weights_sha256 (results/model_identity.h) is equal:
// hub branches serving the wrong weights (pythia issues #195, #205, #206).
class SameWeights {
 public:
  void add(const Checkpoint& c, const std::optional<std::string>& sha) {
    if (!sha) return;
    sha_[{c.model, c.revision}] = *sha;
    revisions_[{c.model, *sha}].insert(c.revision);
  }
  // "" or a mark naming the other revisions with the same weights.
  std::string mark(const Checkpoint& c) const {
    const auto it = sha_.find({c.model, c.revision});
    if (it == sha_.end()) return "";
    std::string others;
    for (const auto& r : revisions_.at({c.model, it->second})) {
      if (r != c.revision) others += (others.empty() ? "" : ", ") + r;
    }
    if (others.empty()) return "";
    return " <span class=\"same-weights\" title=\"weights_sha256 " + html_escape(it->second) +
           "\">&#9888; same weights as " + html_escape(others) + "</span>";
  }
  bool any() const {
    for (const auto& [k, revs] : revisions_) {
      if (revs.size() > 1) return true;
    }
    return false;
  }

 private:
  std::map<std::pair<std::string, std::string>, std::string> sha_;
  std::map<std::pair<std::string, std::string>, std::set<std::string>> revisions_;
};

std::optional<std::string> recorded_sha(const nlohmann::json& raw) {
  if (!raw.is_object() || !raw.contains(kModelIdentityKey)) return std::nullopt;
  const auto& id = raw[kModelIdentityKey];
  if (!id.is_object() || !id.contains("weights_sha256") || !id["weights_sha256"].is_string()) return std::nullopt;
  return id["weights_sha256"].get<std::string>();
}

std::string render_report_html(const ResultTree& tree, const ReportOptions& opt) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" +
                  html_escape(opt.title) + "</title>\n" + kStyle + "</head><body>\n";
  h += "<h1>" + html_escape(opt.title) + "</h1>\n";
  h += "<p class=\"note\">Results tree: " + html_escape(tree.root.string()) + ". " +
       std::to_string(tree.evals.size()) + " evaluation result file(s), " +
       std::to_string(tree.memorizations.size()) +
       " memorization scan(s). Step axes are logarithmic; step 0 is drawn at the left of the axis "
       "break. Bands show ± one standard error.</p>\n";

  // ---- Evaluation ----
  std::vector<std::pair<Checkpoint, const EvalFile*>> evals;
  for (const auto& [key, f] : tree.evals) {
    const std::string model_hint =
        f.run.config.is_object() && f.run.config.contains("model") && f.run.config["model"].is_string()
            ? f.run.config["model"].get<std::string>() : "";
    Checkpoint c = checkpoint_of(key, revision_of_eval(f, key), model_hint);
    if (key.size() > 5 && key.compare(key.size() - 5, 5, ".json") == 0) {
      // A published evals/ file (one per step and shot in a folder): the series is its folder
      // and shot count, the step comes from the file (results/published_evals.h).
      const EvalCheckpoint e = eval_checkpoint(f, key);
      const auto slash = key.rfind('/');
      c.model = (slash == std::string::npos ? std::string("published") : key.substr(0, slash)) +
                " (" + std::to_string(e.num_fewshot) + "-shot)";
      c.step = e.step;
      c.revision = e.step ? "step" + std::to_string(*e.step) : "main";
    }
    evals.emplace_back(std::move(c), &f);
  }
  std::sort(evals.begin(), evals.end(), [](const auto& a, const auto& b) { return before(a.first, b.first); });
  SameWeights same;
  for (const auto& [c, f] : evals) {
    same.add(c, f->run.identity ? std::optional<std::string>(f->run.identity->weights_sha256) : std::nullopt);
  }
  for (const auto& [key, m] : tree.memorizations) {
    Checkpoint c = checkpoint_of(key, m.revision, m.model);
    same.add(c, recorded_sha(m.raw));
  }
  if (same.any()) {
    h += "<p class=\"note\">&#9888; marks checkpoints whose weight files are byte-identical to "
         "another revision's (equal model_identity.weights_sha256): the hub branch may serve the "
         "wrong weights.</p>\n";
  }
  std::vector<std::string> models;
  std::vector<std::pair<std::string, std::string>> metrics;  // (task, metric) in first-seen order
  for (const auto& [c, f] : evals) {
    if (std::find(models.begin(), models.end(), c.model) == models.end()) models.push_back(c.model);
    for (const auto& t : f->run.tasks) {
      for (const auto& m : t.metrics) {
        const auto tm = std::make_pair(t.task, m.name);
        if (std::find(metrics.begin(), metrics.end(), tm) == metrics.end()) metrics.push_back(tm);
      }
    }
  }
  auto lookup = [](const EvalFile* f, const std::string& task, const std::string& metric) -> const MetricValue* {
    for (const auto& t : f->run.tasks) {
      if (t.task != task) continue;
      for (const auto& m : t.metrics) {
        if (m.name == metric) return &m;
      }
    }
    return nullptr;
  };
  if (!evals.empty()) {
    h += "<h2>Evaluation: task metrics against training step</h2>\n<div class=\"plots\">\n";
    for (const auto& [task, metric] : metrics) {
      PlotSpec spec;
      spec.title = task + " / " + metric;
      spec.y_label = metric;
      for (const std::string& model : models) {
        PlotSeries s;
        s.label = model;
        for (const auto& [c, f] : evals) {
          if (c.model != model || !c.step) continue;
          const MetricValue* m = lookup(f, task, metric);
          if (m == nullptr) continue;
          s.x.push_back(static_cast<double>(*c.step));
          s.y.push_back(m->value);
          s.stderr.push_back(m->stderr_value.value_or(kNaN));
        }
        spec.series.push_back(std::move(s));
      }
      spec.log_y = spans_decades(spec.series, 2.0);
      h += "<figure class=\"metric\" data-metric=\"" + html_escape(task + "/" + metric) + "\">\n" +
           render_svg_plot(spec) + "</figure>\n";
    }
    h += "</div>\n";
    for (const std::string& model : models) {
      auto cell = [&](const EvalFile* f, const std::string& task, const std::string& metric) {
        const MetricValue* m = lookup(f, task, metric);
        std::string text = m ? fmt(m->value) : "–";
        if (m && m->stderr_value) text += " ± " + fmt(*m->stderr_value);
        return "<td>" + text + "</td>";
      };
      std::size_t n_ckpt = 0;
      for (const auto& e : evals) n_ckpt += e.first.model == model ? 1 : 0;
      h += "<h3>" + html_escape(model) + ": values (± standard error)</h3>\n<table>";
      if (n_ckpt <= 8) {  // checkpoints as columns
        h += "<tr><th>task</th><th>metric</th>";
        for (const auto& [c, f] : evals) {
          if (c.model == model) h += "<th>" + html_escape(c.revision) + same.mark(c) + "</th>";
        }
        h += "</tr>\n";
        for (const auto& [task, metric] : metrics) {
          h += "<tr><td>" + html_escape(task) + "</td><td>" + html_escape(metric) + "</td>";
          for (const auto& [c, f] : evals) {
            if (c.model == model) h += cell(f, task, metric);
          }
          h += "</tr>\n";
        }
      } else {  // many checkpoints: one row each
        h += "<tr><th>checkpoint</th>";
        for (const auto& [task, metric] : metrics) {
          h += "<th>" + html_escape(task) + "<br>" + html_escape(metric) + "</th>";
        }
        h += "</tr>\n";
        for (const auto& [c, f] : evals) {
          if (c.model != model) continue;
          h += "<tr><td>" + html_escape(c.revision) + same.mark(c) + "</td>";
          for (const auto& [task, metric] : metrics) h += cell(f, task, metric);
          h += "</tr>\n";
        }
      }
      h += "</table>\n";
    }
  }

  // ---- Memorization ----
  std::vector<std::pair<Checkpoint, const MemorizationResult*>> memos;
  for (const auto& [key, m] : tree.memorizations) {
    Checkpoint c = checkpoint_of(key, m.revision, m.model);
    if (m.step) c.step = m.step;
    memos.emplace_back(c, &m);
  }
  std::sort(memos.begin(), memos.end(), [](const auto& a, const auto& b) { return before(a.first, b.first); });
  std::vector<std::string> mmodels;
  for (const auto& [c, m] : memos) {
    if (std::find(mmodels.begin(), mmodels.end(), c.model) == mmodels.end()) mmodels.push_back(c.model);
  }
  if (!memos.empty()) {
    h += "<h2>Memorization against training step</h2>\n<div class=\"plots\">\n";
    PlotSpec rate, mean;
    rate.title = "memorized rows (% of rows scanned)";
    rate.y_label = "% memorized";
    rate.y_include = {0.0};
    mean.title = "mean memorization score";
    mean.y_label = "mean score (k/32)";
    for (const std::string& model : mmodels) {
      PlotSeries r, s;
      r.label = s.label = model;
      for (const auto& [c, m] : memos) {
        if (c.model != model || !c.step) continue;
        const double x = static_cast<double>(*c.step);
        if (m->rows_scanned > 0) {
          r.x.push_back(x);
          r.y.push_back(100.0 * static_cast<double>(m->rows_memorized) / static_cast<double>(m->rows_scanned));
        }
        if (m->mean_score) {
          s.x.push_back(x);
          s.y.push_back(*m->mean_score);
        }
      }
      rate.series.push_back(std::move(r));
      mean.series.push_back(std::move(s));
    }
    h += "<figure class=\"memorization\">" + render_svg_plot(rate) + "</figure>\n";
    h += "<figure class=\"memorization\">" + render_svg_plot(mean) + "</figure>\n</div>\n";
    h += "<table><tr><th>model</th><th>checkpoint</th><th>rows</th><th>rows scanned</th>"
         "<th>memorized</th><th>% memorized</th><th>mean score</th><th>near-tie rows</th></tr>\n";
    for (const auto& [c, m] : memos) {
      const double pct = m->rows_scanned > 0
                             ? 100.0 * static_cast<double>(m->rows_memorized) / static_cast<double>(m->rows_scanned)
                             : kNaN;
      h += "<tr><td>" + html_escape(c.model) + "</td><td>" + html_escape(c.revision) + same.mark(c) + "</td><td>[" +
           std::to_string(m->row_begin) + ", " + std::to_string(m->row_end) + ")</td><td>" +
           std::to_string(m->rows_scanned) + "</td><td>" + std::to_string(m->rows_memorized) +
           "</td><td>" + fmt(pct, 3) + "</td><td>" + (m->mean_score ? fmt(*m->mean_score, 5) : "–") +
           "</td><td>" + std::to_string(m->near_tie_rows) + "</td></tr>\n";
    }
    h += "</table>\n";
  }

  // ---- Memorization by duplication count ----
  for (const std::string& model : mmodels) {
    std::map<int, PlotSeries> mean_by_dup, frac_by_dup;
    std::vector<std::string> columns;            // checkpoints
    std::map<int, std::vector<std::string>> cells;  // duplicates -> one cell per checkpoint
    fs::path manifest_path = opt.canaries;
    CanaryManifest manifest;
    bool have_manifest = false;
    for (const auto& [c, m] : memos) {
      if (c.model != model || m->scores_path.empty()) continue;
      if (!have_manifest) {
        if (manifest_path.empty()) manifest_path = find_canary_manifest(*m, tree.root);
        if (manifest_path.empty()) continue;
        manifest = read_canary_manifest(manifest_path);
        have_manifest = true;
      }
      const auto stats = memorization_by_duplication(manifest, read_memorization_scores(m->scores_path));
      for (const DuplicationStats& d : stats) {
        auto& row = cells[d.duplicates];
        row.resize(columns.size() + 1, "–");
        row[columns.size()] = std::to_string(d.canaries_memorized) + "/" + std::to_string(d.canaries_seen) +
                              " (" + std::to_string(d.rows_memorized) + "/" + std::to_string(d.rows_evaluated) +
                              ")" + (d.mean_score ? " " + fmt(*d.mean_score, 4) : "");
        if (!c.step || d.canaries_seen == 0) continue;
        const double x = static_cast<double>(*c.step);
        auto& ms = mean_by_dup[d.duplicates];
        auto& fs_ = frac_by_dup[d.duplicates];
        ms.label = fs_.label = std::to_string(d.duplicates) + (d.duplicates == 1 ? " copy" : " copies");
        ms.x.push_back(x);
        ms.y.push_back(*d.mean_score);
        fs_.x.push_back(x);
        fs_.y.push_back(static_cast<double>(d.canaries_memorized) / d.canaries_seen);
      }
      columns.push_back(c.revision);
    }
    if (!have_manifest) continue;
    h += "<h2>" + html_escape(model) + ": memorization by duplication count</h2>\n";
    h += "<p class=\"note\">Canary manifest: " + html_escape(manifest_path.string()) +
         ". A canary is seen at a checkpoint when at least one of its copies was scanned, and "
         "memorized when some scanned copy has score 1.</p>\n<div class=\"plots\">\n";
    PlotSpec pm, pf;
    pm.title = "canary mean score by duplication count";
    pm.y_label = "mean score";
    pf.title = "canaries memorized / seen by duplication count";
    pf.y_label = "fraction memorized";
    pf.y_include = {0.0, 1.0};
    for (auto& [dup, s] : mean_by_dup) pm.series.push_back(s);
    for (auto& [dup, s] : frac_by_dup) pf.series.push_back(s);
    h += "<figure class=\"canaries\">" + render_svg_plot(pm) + "</figure>\n";
    h += "<figure class=\"canaries\">" + render_svg_plot(pf) + "</figure>\n</div>\n";
    h += "<p class=\"note\">Cells: canaries memorized/seen (copies memorized/scanned) mean score "
         "(mean over seen canaries).</p>\n<table><tr><th>duplicates</th>";
    for (const std::string& col : columns) h += "<th>" + html_escape(col) + "</th>";
    h += "</tr>\n";
    for (auto& [dup, row] : cells) {
      row.resize(columns.size(), "–");
      h += "<tr><td>" + std::to_string(dup) + "</td>";
      for (const std::string& cell : row) h += "<td>" + cell + "</td>";
      h += "</tr>\n";
    }
    h += "</table>\n";
  }
  if (const fs::path ap = tree.root / kAnalysisJson; fs::is_regular_file(ap)) {
    h += render_analysis_section(read_json_file(ap), ap.string());  // `analyze` output (analysis_html.h)
  }
  if (evals.empty() && memos.empty()) h += "<p>No results found.</p>\n";
  h += "<p class=\"note\">Written by pythia-harness report.</p>\n</body></html>\n";
  return h;
}

}  // namespace pythia::results

// HTML of a cross-checkpoint analysis: see analysis_html.h.
#include "results/analysis_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "results/eval_results.h"
#include "results/svg_plot.h"

namespace pythia::results {
using nlohmann::json;

namespace {

std::string num(double v, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string label_of(const json& cp) {
  std::string s = cp.value("model", "");
  if (!s.empty()) s += " ";
  return s + cp.value("revision", "");
}

double step_of(const json& cp) {
  const auto it = cp.find("step");
  return it != cp.end() && it->is_number() ? it->get<double>() : std::nan("");
}

// Fraction f in [0, 1] (NaN: no data) -> fill colour, white to dark blue.
std::string colour(double f) {
  if (std::isnan(f)) return "#eeeeee";
  const int r = static_cast<int>(std::lround(255 - f * (255 - 8)));
  const int g = static_cast<int>(std::lround(255 - f * (255 - 48)));
  const int b = static_cast<int>(std::lround(255 - f * (255 - 107)));
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", r, g, b);
  return buf;
}

std::string heatmap(const json& group) {
  const json& cps = group.at("checkpoints");
  const std::size_t k = cps.size();
  std::vector<std::vector<double>> m(k, std::vector<double>(k, std::nan("")));
  std::vector<std::vector<std::string>> tip(k, std::vector<std::string>(k));
  for (std::size_t i = 0; i < k; ++i) {
    const double n = cps[i].at("memorized").get<double>();
    m[i][i] = n > 0 ? 1.0 : std::nan("");
    tip[i][i] = label_of(cps[i]) + ": " + std::to_string(static_cast<long long>(n)) + " memorized";
  }
  for (const json& p : group.at("pairs")) {
    const auto a = p.at("a").get<std::size_t>(), b = p.at("b").get<std::size_t>();
    const double na = p.at("n_a").get<double>(), nb = p.at("n_b").get<double>(), nab = p.at("n_ab").get<double>();
    if (a >= k || b >= k) continue;
    m[a][b] = na > 0 ? nab / na : std::nan("");
    m[b][a] = nb > 0 ? nab / nb : std::nan("");
    const std::string counts = " |A|=" + std::to_string(static_cast<long long>(na)) + " |B|=" +
                               std::to_string(static_cast<long long>(nb)) + " |A∩B|=" +
                               std::to_string(static_cast<long long>(nab));
    tip[a][b] = "A=" + label_of(cps[a]) + " B=" + label_of(cps[b]) + counts + " precision " +
                (na > 0 ? num(nab / na) : "n/a");
    tip[b][a] = "A=" + label_of(cps[a]) + " B=" + label_of(cps[b]) + counts + " recall " +
                (nb > 0 ? num(nab / nb) : "n/a");
  }
  const int cell = static_cast<int>(std::clamp<std::size_t>(560 / std::max<std::size_t>(k, 1), 3, 28));
  const bool labels = k <= 40;
  const int margin = labels ? 130 : 10;
  const int size = margin + cell * static_cast<int>(k) + 10;
  std::string s = "<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(size + 60) +
                  "\" height=\"" + std::to_string(size + 20) + "\">\n";
  s += "<text x=\"4\" y=\"14\" class=\"pt\">|A∩B| / |A| (row A, column B)</text>\n";
  const int top = 24;
  for (std::size_t i = 0; i < k; ++i) {
    for (std::size_t j = 0; j < k; ++j) {
      s += "<rect x=\"" + std::to_string(margin + cell * static_cast<int>(j)) + "\" y=\"" +
           std::to_string(top + cell * static_cast<int>(i)) + "\" width=\"" + std::to_string(cell) + "\" height=\"" +
           std::to_string(cell) + "\" fill=\"" + colour(m[i][j]) + "\"><title>" + html_escape(tip[i][j]) +
           "</title></rect>\n";
    }
    if (labels) {
      s += "<text x=\"" + std::to_string(margin - 4) + "\" y=\"" +
           std::to_string(top + cell * static_cast<int>(i) + cell / 2 + 4) + "\" text-anchor=\"end\">" +
           html_escape(label_of(cps[i])) + "</text>\n";
      // column i's label, read downwards below the matrix
      const std::string x = std::to_string(margin + cell * static_cast<int>(i) + cell / 2 - 4);
      const std::string y = std::to_string(top + cell * static_cast<int>(k) + 6);
      s += "<text x=\"" + x + "\" y=\"" + y + "\" transform=\"rotate(90 " + x + " " + y + ")\">" +
           html_escape(label_of(cps[i])) + "</text>\n";
    }
  }
  // colour scale
  const int sx = margin + cell * static_cast<int>(k) + 14;
  for (int t = 0; t <= 10; ++t) {
    s += "<rect x=\"" + std::to_string(sx) + "\" y=\"" + std::to_string(top + 10 * (10 - t)) +
         "\" width=\"12\" height=\"10\" fill=\"" + colour(t / 10.0) + "\"/>\n";
  }
  s += "<text x=\"" + std::to_string(sx + 16) + "\" y=\"" + std::to_string(top + 8) + "\">1</text>\n";
  s += "<text x=\"" + std::to_string(sx + 16) + "\" y=\"" + std::to_string(top + 108) + "\">0</text>\n";
  s += "</svg>";
  return s;
}

}  // namespace

std::string render_analysis_section(const json& a, const std::string& name) {
  if (!a.is_object() || !a.contains("groups") || !a["groups"].is_array()) {
    throw ResultsFileError(name, "not a memorization analysis (no \"groups\")");
  }
  std::string h = "<h2>Memorization across checkpoints</h2>\n";
  h += "<p class=\"note\">From " + html_escape(name) + " (pythia-harness analyze): memorized = score &gt;= " +
       num(a.value("min_score", 1.0), 3) + ".</p>\n";
  try {
    for (const json& g : a["groups"]) {
      const json& cps = g.at("checkpoints");
      h += "<h3>data " + html_escape(g.value("data", "")) + " (" + std::to_string(cps.size()) + " scans)</h3>\n";
      h += "<div class=\"plots\">\n<figure class=\"analysis-heatmap\">" + heatmap(g) + "</figure>\n";
      PlotSpec rate, change;
      rate.title = "memorization rate";
      rate.y_label = "memorized / scanned";
      rate.y_include = {0};
      change.title = "rows gained / forgotten since the previous checkpoint";
      change.y_label = "rows";
      change.y_include = {0};
      for (const auto& [model, traj] : g.at("trajectory").items()) {
        PlotSeries r{model, {}, {}, {}}, gained{model + " gained", {}, {}, {}}, lost{model + " forgotten", {}, {}, {}};
        for (const json& e : traj) {
          const double x = e.contains("step") && e["step"].is_number() ? e["step"].get<double>() : std::nan("");
          const double y = e.contains("rate") && e["rate"].is_number() ? e["rate"].get<double>() : std::nan("");
          r.x.push_back(x);
          r.y.push_back(y);
          gained.x.push_back(x);
          gained.y.push_back(e.at("gained").get<double>());
          lost.x.push_back(x);
          lost.y.push_back(e.at("forgotten").get<double>());
        }
        rate.series.push_back(std::move(r));
        change.series.push_back(std::move(gained));
        change.series.push_back(std::move(lost));
      }
      h += "<figure class=\"analysis-trajectory\">" + render_svg_plot(rate) + "</figure>\n";
      h += "<figure class=\"analysis-trajectory\">" + render_svg_plot(change) + "</figure>\n";
      PlotSpec dup;
      dup.title = "memorization rate by duplicate count";
      dup.x_label = "duplicate count in the memmap (bucket upper bound, log scale)";
      dup.y_label = "memorized / scanned";
      dup.y_include = {0, 1};
      for (const json& cp : cps) {
        if (!cp.contains("by_duplicates")) continue;
        PlotSeries s{label_of(cp), {}, {}, {}};
        for (const json& b : cp["by_duplicates"]) {
          if (!b["count_max"].is_number() || !b["rate"].is_number()) continue;
          s.x.push_back(b["count_max"].get<double>());
          s.y.push_back(b["rate"].get<double>());
        }
        dup.series.push_back(std::move(s));
      }
      if (!dup.series.empty()) h += "<figure class=\"analysis-duplicates\">" + render_svg_plot(dup) + "</figure>\n";
      h += "</div>\n<table><tr><th>checkpoint</th><th>step</th><th>rows scanned</th><th>memorized</th><th>rate</th></tr>\n";
      for (const json& cp : cps) {
        const double st = step_of(cp);
        h += "<tr><td>" + html_escape(label_of(cp)) + "</td><td>" +
             (std::isnan(st) ? std::string("") : std::to_string(static_cast<long long>(st))) + "</td><td>" +
             std::to_string(cp.at("rows_scanned").get<long long>()) + "</td><td>" +
             std::to_string(cp.at("memorized").get<long long>()) + "</td><td>" +
             (cp["rate"].is_number() ? num(cp["rate"].get<double>(), 4) : std::string("")) + "</td></tr>\n";
      }
      h += "</table>\n";
    }
  } catch (const json::exception& e) {
    throw ResultsFileError(name, std::string("malformed analysis: ") + e.what());
  }
  return h;
}

std::string render_analysis_html(const json& a, const std::string& name, const std::string& title) {
  std::string h = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
                  "</title>\n<style>body{font-family:sans-serif;margin:24px;color:#222;max-width:1250px}"
                  "h2{font-size:18px}h3{font-size:15px}table{border-collapse:collapse;font-size:12px}"
                  "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}.plots{display:flex;flex-wrap:wrap;"
                  "gap:8px}figure{margin:0}svg.plot{font-size:11px;background:#fff}svg .pt{font-size:13px;"
                  "font-weight:bold}svg .frame{fill:none;stroke:#888}svg .grid{stroke:#e4e4e4}.note{color:#555;"
                  "font-size:12px}</style></head><body>\n<h1>" + html_escape(title) + "</h1>\n";
  h += render_analysis_section(a, name);
  h += "</body></html>\n";
  return h;
}

}  // namespace pythia::results

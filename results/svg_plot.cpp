// See svg_plot.h.
#include "results/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace pythia::results {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string tick_label(double v) {
  char buf[32];
  const double a = std::fabs(v);
  if (v == 0) return "0";
  if (a >= 1e5 || a < 1e-3) {
    std::snprintf(buf, sizeof buf, "%.3g", v);  // 1.5e+07, not a rounded duplicate "2e+07"
  } else if (a >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  }
  return buf;
}

std::string step_label(double step) {
  char buf[32];
  if (step >= 1000 && std::fmod(step, 1000) == 0) {
    std::snprintf(buf, sizeof buf, "%gk", step / 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%g", step);
  }
  return buf;
}

// "Nice" linear ticks covering [lo, hi].
std::vector<double> linear_ticks(double lo, double hi) {
  const double span = hi - lo;
  const double raw = span / 5;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (raw <= m * mag) {
      step = m * mag;
      break;
    }
  }
  std::vector<double> t;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  }
  return t;
}

}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

const char* palette_color(std::size_t i) {
  // Okabe-Ito palette.
  static const char* const kColors[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                        "#E69F00", "#56B4E9", "#000000", "#F0E442"};
  return kColors[i % (sizeof kColors / sizeof kColors[0])];
}

bool spans_decades(const std::vector<PlotSeries>& series, double decades) {
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (const auto& s : series) {
    for (double v : s.y) {
      if (!(v > 0) || !std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  return hi > 0 && std::isfinite(lo) && std::log10(hi / lo) > decades;
}

std::string render_svg_plot(const PlotSpec& spec) {
  const double W = spec.width, H = spec.height;
  const double left = 70, right = 150, top = 30, bottom = 45;
  const double pw = W - left - right, ph = H - top - bottom;
  const bool log_y = spec.log_y;

  // Ranges.
  bool has_zero_step = false;
  double xmin = std::numeric_limits<double>::infinity(), xmax = 0;
  double ymin = std::numeric_limits<double>::infinity(), ymax = -ymin;
  auto usable_y = [&](double v) { return std::isfinite(v) && (!log_y || v > 0); };
  for (const auto& s : spec.series) {
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!usable_y(s.y[i]) || !(s.x[i] >= 0)) continue;
      if (s.x[i] == 0) {
        has_zero_step = true;
      } else {
        xmin = std::min(xmin, s.x[i]);
        xmax = std::max(xmax, s.x[i]);
      }
      double lo = s.y[i], hi = s.y[i];
      if (i < s.stderr.size() && std::isfinite(s.stderr[i])) {
        lo -= s.stderr[i];
        hi += s.stderr[i];
        if (log_y && lo <= 0) lo = s.y[i];
      }
      ymin = std::min(ymin, lo);
      ymax = std::max(ymax, hi);
    }
  }
  if (std::isfinite(ymin)) {
    for (double v : spec.y_include) {
      if (!usable_y(v)) continue;
      ymin = std::min(ymin, v);
      ymax = std::max(ymax, v);
    }
  }
  std::string out;
  out += "<svg width=\"" + num(W) + "\" height=\"" + num(H) +
         "\" viewBox=\"0 0 " + num(W) + " " + num(H) + "\" class=\"plot\" role=\"img\">\n";
  out += "<title>" + html_escape(spec.title) + "</title>\n";
  out += "<text x=\"" + num(left + pw / 2) + "\" y=\"18\" text-anchor=\"middle\" class=\"pt\">" +
         html_escape(spec.title) + "</text>\n";
  if (!std::isfinite(ymin)) {
    out += "<text x=\"" + num(left + pw / 2) + "\" y=\"" + num(top + ph / 2) +
           "\" text-anchor=\"middle\">no data</text>\n</svg>\n";
    return out;
  }
  if (!std::isfinite(xmin)) {  // only step 0
    xmin = 1;
    xmax = 10;
  }
  if (xmax <= xmin) xmax = xmin * 10;
  if (log_y) {
    ymin = std::log10(ymin);
    ymax = std::log10(ymax);
  }
  if (ymax - ymin < 1e-12) {
    const double pad = std::max(std::fabs(ymax) * 0.05, log_y ? 0.5 : 0.05);
    ymin -= pad;
    ymax += pad;
  } else {
    const double pad = (ymax - ymin) * 0.06;
    ymin -= pad;
    ymax += pad;
  }
  // x: the step-0 slot takes the first 10% of the width when present.
  const double zero_slot = has_zero_step ? pw * 0.1 : 0.0;
  const double lx0 = std::log10(xmin), lx1 = std::log10(xmax);
  const double lpad = (lx1 - lx0) * 0.04 + 1e-9;
  auto px = [&](double x) {
    if (x == 0) return left + zero_slot * 0.4;
    return left + zero_slot + (std::log10(x) - (lx0 - lpad)) / (lx1 - lx0 + 2 * lpad) * (pw - zero_slot);
  };
  auto py = [&](double y) {
    const double v = log_y ? std::log10(y) : y;
    return top + ph - (v - ymin) / (ymax - ymin) * ph;
  };

  // Frame and grid.
  out += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(pw) + "\" height=\"" +
         num(ph) + "\" class=\"frame\"/>\n";
  if (log_y) {
    for (int e = static_cast<int>(std::ceil(ymin)); e <= static_cast<int>(std::floor(ymax)); ++e) {
      const double y = top + ph - (e - ymin) / (ymax - ymin) * ph;
      out += "<line x1=\"" + num(left) + "\" x2=\"" + num(left + pw) + "\" y1=\"" + num(y) +
             "\" y2=\"" + num(y) + "\" class=\"grid\"/>\n";
      out += "<text x=\"" + num(left - 6) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" +
             tick_label(std::pow(10.0, e)) + "</text>\n";
    }
  } else {
    for (double t : linear_ticks(ymin, ymax)) {
      const double y = py(t);
      out += "<line x1=\"" + num(left) + "\" x2=\"" + num(left + pw) + "\" y1=\"" + num(y) +
             "\" y2=\"" + num(y) + "\" class=\"grid\"/>\n";
      out += "<text x=\"" + num(left - 6) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" +
             tick_label(t) + "</text>\n";
    }
  }
  // x ticks: every data step when there are few of them, else the powers of ten in range.
  std::vector<double> xt;
  for (const auto& s : spec.series) {
    for (double x : s.x) {
      if (x > 0 && std::find(xt.begin(), xt.end(), x) == xt.end()) xt.push_back(x);
    }
  }
  if (xt.size() > 8) {
    xt.clear();
    for (int e = static_cast<int>(std::ceil(lx0 - lpad)); e <= static_cast<int>(std::floor(lx1 + lpad)); ++e) {
      xt.push_back(std::pow(10.0, e));
    }
  }
  double last_px = -1e9;
  std::sort(xt.begin(), xt.end());
  for (double t : xt) {
    const double x = px(t);
    if (x - last_px < 28) continue;
    last_px = x;
    out += "<line x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" + num(top) + "\" y2=\"" +
           num(top + ph) + "\" class=\"grid\"/>\n";
    out += "<text x=\"" + num(x) + "\" y=\"" + num(top + ph + 16) + "\" text-anchor=\"middle\">" +
           step_label(t) + "</text>\n";
  }
  if (has_zero_step) {
    const double x0 = px(0), xb = left + zero_slot;
    out += "<line x1=\"" + num(x0) + "\" x2=\"" + num(x0) + "\" y1=\"" + num(top) + "\" y2=\"" +
           num(top + ph) + "\" class=\"grid\"/>\n";
    out += "<text x=\"" + num(x0) + "\" y=\"" + num(top + ph + 16) +
           "\" text-anchor=\"middle\" class=\"step0\">0</text>\n";
    // Axis break: step 0 is not on the log scale.
    out += "<path d=\"M" + num(xb - 4) + " " + num(top + ph + 5) + " l4 -10 M" + num(xb) + " " +
           num(top + ph + 5) + " l4 -10\" class=\"brk\"/>\n";
    out += "<line x1=\"" + num(xb + 2) + "\" x2=\"" + num(xb + 2) + "\" y1=\"" + num(top) +
           "\" y2=\"" + num(top + ph) + "\" class=\"brkline\"/>\n";
  }
  out += "<text x=\"" + num(left + pw / 2) + "\" y=\"" + num(H - 8) + "\" text-anchor=\"middle\">" +
         html_escape(spec.x_label) + "</text>\n";
  out += "<text transform=\"translate(14 " + num(top + ph / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + html_escape(spec.y_label) +
         (log_y ? " (log)" : "") + "</text>\n";

  // Series: band, line, markers, legend.
  for (std::size_t si = 0; si < spec.series.size(); ++si) {
    const PlotSeries& s = spec.series[si];
    const std::string color = palette_color(si);
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (usable_y(s.y[i]) && s.x[i] >= 0) idx.push_back(i);
    }
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return s.x[a] < s.x[b]; });
    bool band = false;
    std::string upper, lower;
    for (std::size_t i : idx) {
      if (i < s.stderr.size() && std::isfinite(s.stderr[i]) && s.stderr[i] > 0) band = true;
    }
    if (band) {
      for (std::size_t i : idx) {
        const double se = (i < s.stderr.size() && std::isfinite(s.stderr[i])) ? s.stderr[i] : 0.0;
        double lo = s.y[i] - se;
        if (log_y && lo <= 0) lo = s.y[i];
        upper += num(px(s.x[i])) + "," + num(py(s.y[i] + se)) + " ";
        lower = num(px(s.x[i])) + "," + num(py(lo)) + " " + lower;
      }
      out += "<polygon points=\"" + upper + lower + "\" fill=\"" + color +
             "\" fill-opacity=\"0.18\" stroke=\"none\" class=\"band\"/>\n";
    }
    std::string pts;
    for (std::size_t i : idx) pts += num(px(s.x[i])) + "," + num(py(s.y[i])) + " ";
    out += "<polyline points=\"" + pts + "\" fill=\"none\" stroke=\"" + color +
           "\" stroke-width=\"1.8\"/>\n";
    for (std::size_t i : idx) {
      out += "<circle cx=\"" + num(px(s.x[i])) + "\" cy=\"" + num(py(s.y[i])) + "\" r=\"3\" fill=\"" +
             color + "\"><title>" + html_escape(s.label) + " step " + step_label(s.x[i]) + ": " +
             tick_label(s.y[i]) + "</title></circle>\n";
    }
    const double ly = top + 10 + 18.0 * static_cast<double>(si);
    out += "<line x1=\"" + num(left + pw + 12) + "\" x2=\"" + num(left + pw + 30) + "\" y1=\"" +
           num(ly) + "\" y2=\"" + num(ly) + "\" stroke=\"" + color + "\" stroke-width=\"3\"/>\n";
    out += "<text x=\"" + num(left + pw + 35) + "\" y=\"" + num(ly + 4) + "\">" +
           html_escape(s.label) + "</text>\n";
  }
  out += "</svg>\n";
  return out;
}

}  // namespace pythia::results

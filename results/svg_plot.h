// Minimal inline-SVG line plots for the HTML report (no scripts, no external resources).
// The x axis is training step on a log scale; step 0 (which a log axis cannot show) gets its own
// tick at the left edge, separated from the log part by an axis break. The y axis is linear, or
// logarithmic when asked (perplexities spanning decades).
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

namespace pythia::results {

struct PlotSeries {
  std::string label;
  std::vector<double> x;       // steps (>= 0)
  std::vector<double> y;       // values; NaN points are skipped
  std::vector<double> stderr;  // empty, or one per point (NaN = none): drawn as a band y ± stderr
};

struct PlotSpec {
  std::string title;
  std::string x_label = "training step (log scale)";
  std::string y_label;
  bool log_y = false;  // when true, non-positive values are skipped
  std::vector<double> y_include;  // values the y range must cover (e.g. {0, 1} for fractions)
  int width = 560;
  int height = 300;
  std::vector<PlotSeries> series;
};

// Returns "<svg ...>...</svg>" with a title, axes, ticks, a legend, one polyline + point markers
// per series, and semi-transparent stderr bands. An empty plot (no finite point) says so inside.
std::string render_svg_plot(const PlotSpec& spec);

// True when y values (positive) span more than `decades` decades: the caller may set log_y.
bool spans_decades(const std::vector<PlotSeries>& series, double decades);

// Escapes &, <, >, " and ' for HTML/SVG text and attributes.
std::string html_escape(const std::string& s);

// The i-th colour of a fixed colour-blind-friendly palette.
const char* palette_color(std::size_t i);

}  // namespace pythia::results

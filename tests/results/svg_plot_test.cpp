// results/svg_plot.h: structure of the inline SVG (no external references), step-0 tick, bands,
// log y, escaping, empty plots.
#include "results/svg_plot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace pythia::results {
namespace {

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

TEST(SvgPlot, LinesMarkersBandsAndStepZero) {
  PlotSpec spec;
  spec.title = "piqa / acc <&>";
  spec.y_label = "acc";
  spec.series.push_back({"model-a", {0, 1000, 143000}, {0.5, 0.55, 0.6}, {0.01, 0.01, 0.01}});
  spec.series.push_back({"model-b", {0, 1000}, {0.52, std::numeric_limits<double>::quiet_NaN()}, {}});
  const std::string svg = render_svg_plot(spec);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_EQ(count(svg, "</svg>"), 1);
  EXPECT_EQ(svg.find("http"), std::string::npos);
  EXPECT_EQ(count(svg, "<polyline"), 2);
  EXPECT_EQ(count(svg, "<circle"), 3 + 1);  // the NaN point is skipped
  EXPECT_EQ(count(svg, "class=\"band\""), 1);  // only series a has stderr
  EXPECT_EQ(count(svg, "class=\"step0\""), 1);
  EXPECT_NE(svg.find("piqa / acc &lt;&amp;&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("<&>"), std::string::npos);
  EXPECT_NE(svg.find(">143k</text>"), std::string::npos);  // data steps label the axis
}

TEST(SvgPlot, LogYAndEmpty) {
  PlotSpec spec;
  spec.series.push_back({"m", {1, 10, 100}, {1e7, 1e4, 50}, {}});
  EXPECT_TRUE(spans_decades(spec.series, 2.0));
  spec.log_y = true;
  const std::string svg = render_svg_plot(spec);
  EXPECT_NE(svg.find(">1e+06</text>"), std::string::npos) << svg;
  PlotSpec empty;
  empty.title = "nothing";
  EXPECT_NE(render_svg_plot(empty).find("no data"), std::string::npos);
  EXPECT_EQ(html_escape("a\"b'c"), "a&quot;b&#39;c");
}

}  // namespace
}  // namespace pythia::results

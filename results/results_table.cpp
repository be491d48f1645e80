#include "results/results_table.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace pythia::results {
namespace {

std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0u) != 0x80u;
  return n;
}


}  // namespace

std::string format_results_table(const EvalRun& run) {
  const std::vector<std::string> headers = {"Tasks", "Version", "Filter", "n-shot", "Metric",
                                            "",      "Value",   "",       "Stderr"};
  const std::vector<bool> right = {false, true, false, true, false, false, true, false, true};
  std::vector<std::vector<std::string>> rows;
  char buf[64];
  for (const auto& t : run.tasks) {
    auto metrics = t.metrics;
    std::sort(metrics.begin(), metrics.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    bool first = true;
    for (const auto& m : metrics) {
      std::vector<std::string> r(9);
      if (first) {
        r[0] = t.task;
        std::snprintf(buf, sizeof buf, "%g", t.version);
        r[1] = buf;
      }
      r[2] = "none";
      r[3] = std::to_string(t.num_fewshot);
      r[4] = m.name;
      r[5] = m.higher_is_better ? "\xE2\x86\x91" : "\xE2\x86\x93";  // ↑ ↓
      std::snprintf(buf, sizeof buf, "%.4f", m.value);
      r[6] = buf;
      r[7] = "\xC2\xB1";  // ±
      if (m.stderr_value) {
        std::snprintf(buf, sizeof buf, "%.4f", *m.stderr_value);
        r[8] = buf;
      } else {
        r[8] = "   N/A";
      }
      rows.push_back(std::move(r));
      first = false;
    }
  }
  std::vector<std::size_t> w(headers.size(), 3);
  for (std::size_t c = 0; c < headers.size(); ++c) {
    w[c] = std::max(w[c], display_width(headers[c]));
    for (const auto& r : rows) w[c] = std::max(w[c], display_width(r[c]));
  }
  auto pad = [](const std::string& s, std::size_t width, int align) {  // -1 left, 0 center, 1 right
    const std::size_t n = width - display_width(s);
    if (align < 0) return s + std::string(n, ' ');
    if (align > 0) return std::string(n, ' ') + s;
    return std::string(n / 2, ' ') + s + std::string(n - n / 2, ' ');
  };
  std::string out = "|";
  for (std::size_t c = 0; c < headers.size(); ++c) out += pad(headers[c], w[c], 0) + "|";
  out += "\n|";
  for (std::size_t c = 0; c < headers.size(); ++c) {
    out += right[c] ? std::string(w[c] - 1, '-') + ":" : std::string(w[c], '-');
    out += "|";
  }
  out += "\n";
  for (const auto& r : rows) {
    out += "|";
    for (std::size_t c = 0; c < headers.size(); ++c) out += pad(r[c], w[c], right[c] ? 1 : -1) + "|";
    out += "\n";
  }
  return out;
}

}  // namespace pythia::results

// See python_json.h. Python's float repr: Objects/floatobject.c float_repr -> PyOS_double_to_string
// (format 'r', precision 0): shortest round-trip digits, exponent form when the decimal point
// position decpt is <= -4 or > 16.
#include "results/python_json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

namespace pythia::results {

std::string python_float_repr(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  // Shortest round-trip digits in scientific form: [-]d[.ddd]e[+-]X.
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view s(buf, static_cast<std::size_t>(res.ptr - buf));
  std::string sign;
  if (!s.empty() && s.front() == '-') {
    sign = "-";
    s.remove_prefix(1);
  }
  const auto e = s.find('e');
  std::string digits;
  for (char c : s.substr(0, e)) {
    if (c != '.') digits += c;
  }
  const int exp10 = std::atoi(std::string(s.substr(e + 1)).c_str());
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int decpt = exp10 + 1;  // digits d1 d2 ... with the point after decpt digits
  std::string out;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out = "0." + std::string(static_cast<std::size_t>(-decpt), '0') + digits;
    } else if (static_cast<std::size_t>(decpt) >= digits.size()) {
      out = digits + std::string(static_cast<std::size_t>(decpt) - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<std::size_t>(decpt)) + "." +
            digits.substr(static_cast<std::size_t>(decpt));
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    const int x = decpt - 1;
    out += x < 0 ? "e-" : "e+";
    const int ax = std::abs(x);
    if (ax < 10) out += '0';
    out += std::to_string(ax);
  }
  return sign + out;
}

namespace {

void dump(const nlohmann::ordered_json& j, int indent, int level, std::string& out) {
  using ojson = nlohmann::ordered_json;
  const std::string pad(static_cast<std::size_t>(indent * (level + 1)), ' ');
  const std::string close_pad(static_cast<std::size_t>(indent * level), ' ');
  switch (j.type()) {
    case ojson::value_t::object: {
      if (j.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      bool first = true;
      for (const auto& [k, v] : j.items()) {
        if (!first) out += ",\n";
        first = false;
        out += pad + ojson(k).dump(-1, ' ', false, ojson::error_handler_t::replace) + ": ";
        dump(v, indent, level + 1, out);
      }
      out += "\n" + close_pad + "}";
      return;
    }
    case ojson::value_t::array: {
      if (j.empty()) {
        out += "[]";
        return;
      }
      out += "[\n";
      for (std::size_t i = 0; i < j.size(); ++i) {
        if (i) out += ",\n";
        out += pad;
        dump(j[i], indent, level + 1, out);
      }
      out += "\n" + close_pad + "]";
      return;
    }
    case ojson::value_t::number_float: {
      const double v = j.get<double>();
      out += std::isfinite(v) ? python_float_repr(v) : "null";
      return;
    }
    default:
      out += j.dump(-1, ' ', false, ojson::error_handler_t::replace);
  }
}

}  // namespace

std::string dump_python_json(const nlohmann::ordered_json& j, int indent) {
  std::string out;
  dump(j, indent, 0, out);
  return out;
}

}  // namespace pythia::results

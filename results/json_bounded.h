// Hostile-input-safe JSON for the results readers (results_reader.cpp, memorization_file_read.cpp).
//
// parse_json_bounded: parses `text`; nesting deeper than kMaxResultsJsonDepth levels, invalid JSON
// and numbers too large for a double are a ResultsFileError naming `name` (fuzz findings F2 and
// F4: nlohmann's copy constructor and dump() recurse once per level, so a file nested a million
// levels deep overflowed the stack when its "config" was copied; real results files nest < 10).
//
// json_int: the value of an integer-valued JSON number as an int64 in [lo, hi]; anything else
// (a fraction, 1e300, an unsigned beyond int64, a string) is a ResultsFileError naming the file and
// the key (fuzz finding F1: get<int>() on 1e300 is a float-to-int conversion out of range, UB).
//
// Thread safety: free functions without shared state.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "results/eval_results.h"

namespace pythia::results {

inline constexpr int kMaxResultsJsonDepth = 64;

template <typename Json = nlohmann::json>
Json parse_json_bounded(const std::string& text, const std::string& name) {
  try {
    return Json::parse(text, [&](int depth, typename Json::parse_event_t, Json&) {
      if (depth > kMaxResultsJsonDepth) {
        throw ResultsFileError(name, "JSON nested deeper than " + std::to_string(kMaxResultsJsonDepth) +
                                         " levels: not a results file");
      }
      return true;
    });
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range 406 (number overflow)
    throw ResultsFileError(name, std::string("not valid JSON: ") + e.what());
  }
}

template <typename Json>
std::int64_t json_int(const Json& v, const std::string& name, const std::string& key,
                      std::int64_t lo = std::numeric_limits<std::int64_t>::min(),
                      std::int64_t hi = std::numeric_limits<std::int64_t>::max()) {
  bool ok = false;
  std::int64_t out = 0;
  if (v.is_number_unsigned()) {
    const auto u = v.template get<std::uint64_t>();
    ok = u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (ok) out = static_cast<std::int64_t>(u);
  } else if (v.is_number_integer()) {
    out = v.template get<std::int64_t>();
    ok = true;
  } else if (v.is_number_float()) {
    const double d = v.template get<double>();
    // [-2^63, 2^63): the doubles that convert to int64 without UB.
    ok = std::isfinite(d) && d == std::trunc(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0;
    if (ok) out = static_cast<std::int64_t>(d);
  }
  if (!ok || out < lo || out > hi) {
    std::string shown = v.is_number() || v.is_string() || v.is_boolean() || v.is_null() ? v.dump() : "a " + std::string(v.type_name());
    if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
    throw ResultsFileError(name, "\"" + key + "\" must be an integer in [" + std::to_string(lo) + ", " +
                                     std::to_string(hi) + "], not " + shown);
  }
  return out;
}

}  // namespace pythia::results

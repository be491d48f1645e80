// JSON text as Python's json.dumps(obj, indent=N) writes it (ensure_ascii=False aside), for files
// that must look byte for byte like ones written by Python (the pythia-v0 layout: Pythia's
// published evals/ files are lm-eval v0.3's json.dumps(results, indent=2)). nlohmann's own dump
// differs in one place: its Grisu2 float text is round-trip but not always the shortest
// (0.31009174311926607 where Python writes 0.3100917431192661).
//
//   python_float_repr(1e-05) == "1e-05";  python_float_repr(2.0) == "2.0"
//   dump_python_json(ordered_json{{"a", 0.5}}, 2) == "{\n  \"a\": 0.5\n}"   (no trailing newline)
//
// Pure; thread-safe.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace pythia::results {

// Python's repr(float): the shortest digits that round-trip; positional notation for decimal
// exponents -4 <= e < 16 ("0.0001", "1234.5", "1e+16" -> exponent form), always with a '.' or an
// exponent ("2.0"); exponents with a sign and at least two digits ("1e-05"). Non-finite values
// give "NaN", "Infinity", "-Infinity" (Python's json spelling).
std::string python_float_repr(double v);

// json.dumps(j, indent=indent): objects and arrays one element a line, ", " never used (indent
// given), ": " after keys, empty containers as {} and [], strings escaped like nlohmann (UTF-8
// kept), floats with python_float_repr, integers and literals as usual. Non-finite floats are
// written as null (strict JSON, so our own readers can read the file back; Python would write NaN).
std::string dump_python_json(const nlohmann::ordered_json& j, int indent = 2);

}  // namespace pythia::results

// Python `str` semantics on UTF-8 strings, for prompt construction that must match lm-eval byte for
// byte: whitespace = `str.isspace()` / `re` `\s` (Unicode: \t\n\v\f\r, \x1c-\x1f, space, U+0085,
// U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), strip/lstrip/rstrip
// without arguments, len() in code points, str.replace.
//
// REQUIRES: valid UTF-8 (every text we handle comes from a JSON parser or was validated with
// find_invalid_utf8 below). Pure, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pythia::tasks {

bool is_python_space(std::uint32_t cp);

// Length in bytes of the run of Python whitespace at the start / end of `s`.
std::size_t leading_space_bytes(std::string_view s);
std::size_t trailing_space_bytes(std::string_view s);

std::string_view py_lstrip(std::string_view s);
std::string_view py_rstrip(std::string_view s);
std::string_view py_strip(std::string_view s);

// len(s) in Python: number of code points.
std::size_t code_point_length(std::string_view s);

// s.replace(from, to): all non-overlapping occurrences, scanning left to right. REQUIRES: from
// non-empty.
std::string py_replace(std::string_view s, std::string_view from, std::string_view to);

// len(re.split(r"\s+", s)): 1 + the number of maximal runs of Python whitespace.
std::size_t python_split_ws_count(std::string_view s);

// Byte length of the code point starting at s[i] (valid UTF-8 assumed), and its value.
std::uint32_t code_point_at(std::string_view s, std::size_t i, std::size_t& len);

// Byte offset of the first ill-formed UTF-8 sequence (Unicode §3.9), or nullopt.
std::optional<std::size_t> find_invalid_utf8(std::string_view s);

}  // namespace pythia::tasks

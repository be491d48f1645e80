// CSV records as Python's `csv.reader` (default "excel" dialect) reads them, strict about
// malformed quoting: RFC 4180 fields separated by ',', optionally enclosed in '"' (then they may
// hold ',', '"' written as '""', and line breaks), records ended by "\n", "\r\n" or "\r". Blank
// lines are skipped. Used for the MMLU files (tasks/mmlu.cpp), whose quoted fields span lines.
//
// Errors (DataError "<file>:<line>", the line where the record starts): a quoted field without
// its closing quote, a character other than ',' or a line break after a closing quote, text that
// is not valid UTF-8. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pythia::tasks {

struct CsvRecord {
  std::int64_t line = 0;  // 1-based line of the file where the record starts
  std::vector<std::string> fields;
};

// Parses `text` (the whole file); `file` names it in errors.
std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& file);

}  // namespace pythia::tasks

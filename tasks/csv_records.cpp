#include "tasks/csv_records.h"

#include "data/error.h"
#include "tasks/python_text.h"

namespace pythia::tasks {

std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& file) {
  if (const auto bad = find_invalid_utf8(text)) {
    std::int64_t line = 1;
    for (std::size_t i = 0; i < *bad; ++i) line += text[i] == '\n' ? 1 : 0;
    throw DataError(file + ":" + std::to_string(line),
                    "not valid UTF-8 (byte offset " + std::to_string(*bad) + ")");
  }
  std::vector<CsvRecord> out;
  std::int64_t line = 1;  // current line
  std::size_t i = 0;
  const std::size_t n = text.size();
  auto at_break = [&](std::size_t j) { return j < n && (text[j] == '\n' || text[j] == '\r'); };
  auto skip_break = [&]() {  // REQUIRES at_break(i)
    if (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') ++i;
    ++i;
    ++line;
  };
  while (i < n) {
    if (at_break(i)) {  // blank line
      skip_break();
      continue;
    }
    CsvRecord rec;
    rec.line = line;
    for (;;) {  // one field per iteration
      std::string field;
      if (i < n && text[i] == '"') {
        const std::int64_t open_line = line;
        ++i;
        for (;;) {
          if (i >= n) {
            throw DataError(file + ":" + std::to_string(open_line),
                            "quoted field is not closed before the end of the file");
          }
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n' || (c == '\r' && !(i + 1 < n && text[i + 1] == '\n'))) ++line;
          field += c;
          ++i;
        }
        if (i < n && text[i] != ',' && !at_break(i)) {
          throw DataError(file + ":" + std::to_string(line),
                          std::string("unexpected character '") + text[i] +
                              "' after the closing quote of a field (expected ',' or end of line)");
        }
      } else {
        while (i < n && text[i] != ',' && !at_break(i)) field += text[i++];
      }
      rec.fields.push_back(std::move(field));
      if (i < n && text[i] == ',') {
        ++i;
        continue;
      }
      break;  // end of line or of file
    }
    if (at_break(i)) skip_break();
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace pythia::tasks

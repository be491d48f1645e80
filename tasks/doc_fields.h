// Field access for JSON records of the task data files, with DataError("<file>:<line>", ...) on a
// missing field or a wrong type.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "data/error.h"

namespace pythia::tasks {

inline const nlohmann::json& field(const nlohmann::json& obj, const char* key,
                                   const std::string& where) {
  if (!obj.is_object()) throw DataError(where, "record is not a JSON object");
  const auto it = obj.find(key);
  if (it == obj.end()) throw DataError(where, std::string("missing field '") + key + "'");
  return *it;
}

inline std::string string_field(const nlohmann::json& obj, const char* key,
                                const std::string& where) {
  const auto& v = field(obj, key, where);
  if (!v.is_string()) throw DataError(where, std::string("field '") + key + "' is not a string");
  return v.get<std::string>();
}

inline std::string at_line(const std::string& file, std::int64_t line) {
  return file + ":" + std::to_string(line);
}

}  // namespace pythia::tasks

namespace pythia::tasks {
// Removes ASCII whitespace (space, \t, \r, \n, \v, \f) at both ends (for label files).
inline std::string trim_ascii(const std::string& s) {
  const char* ws = " \t\r\n\v\f";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}
}  // namespace pythia::tasks

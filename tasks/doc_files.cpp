#include "tasks/doc_files.h"

#include "data/error.h"
#include "data/jsonl_reader.h"
#include "tasks/doc_fields.h"

namespace pythia::tasks {

void for_each_record(const std::filesystem::path& path,
                     const std::function<void(const nlohmann::json&, const std::string&)>& fn) {
  data::for_each_jsonl(path, [&](std::int64_t line, const nlohmann::json& j) {
    fn(j, at_line(path.string(), line));
  });
}

std::vector<std::string> read_labels(const std::filesystem::path& labels, std::size_t n_records,
                                     const std::filesystem::path& records) {
  auto lines = data::read_lines(labels);
  if (lines.size() != n_records) {
    throw DataError(labels.string(), std::to_string(lines.size()) + " labels for " +
                                         std::to_string(n_records) + " records of " +
                                         records.string());
  }
  return lines;
}

}  // namespace pythia::tasks

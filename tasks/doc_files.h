// Reading the record files of the task data (see data/task_data.h for where they sit): JSON lines
// with their "<file>:<line>" position, and the one-label-per-line files (PIQA, WinoGrande) that
// go with a JSONL file line by line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pythia::tasks {

// Calls fn(record, where) for each JSON line of `path` in file order, where = "<path>:<line>"
// (the position DataError names). Errors: DataError from data::for_each_jsonl or from fn.
void for_each_record(const std::filesystem::path& path,
                     const std::function<void(const nlohmann::json&, const std::string&)>& fn);

// The lines of label file `labels` (untrimmed), which must hold one label per record of
// `records` (n_records of them). Throws DataError(labels, "<n> labels for <m> records of
// <records>") when the counts differ.
std::vector<std::string> read_labels(const std::filesystem::path& labels, std::size_t n_records,
                                     const std::filesystem::path& records);

}  // namespace pythia::tasks

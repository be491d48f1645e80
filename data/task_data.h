// Locating evaluation data files under a data directory laid out like the original distributions:
//   <data_dir>/<task>/<original file name>        e.g. D/piqa/valid.jsonl
//   <data_dir>/<task>/<original file name>.gz     (gzip; readers in data/jsonl_reader.h)
// The plain file wins when both exist.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace pythia::data {

// The path of `file` for `task` under `data_dir`, plain or .gz. Throws DataError naming the
// expected path and `how_to_get` (where the user can obtain the file) when neither exists.
std::filesystem::path locate_task_file(const std::filesystem::path& data_dir, std::string_view task,
                                       std::string_view file, std::string_view how_to_get);

}  // namespace pythia::data

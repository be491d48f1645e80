#include "data/task_data.h"

#include "data/error.h"

namespace pythia::data {

std::filesystem::path locate_task_file(const std::filesystem::path& data_dir, std::string_view task,
                                       std::string_view file, std::string_view how_to_get) {
  const std::filesystem::path plain = data_dir / std::string(task) / std::string(file);
  std::error_code ec;
  if (std::filesystem::is_regular_file(plain, ec)) return plain;
  std::filesystem::path gz = plain;
  gz += ".gz";
  if (std::filesystem::is_regular_file(gz, ec)) return gz;
  throw DataError(plain.string(), "not found (nor " + gz.filename().string() +
                                      "); the data dir must hold <task>/<original file name>. " +
                                      std::string(how_to_get));
}

}  // namespace pythia::data

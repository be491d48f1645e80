#include "harness/bundled_fixtures.h"

#include <cstdlib>

#include "data/error.h"

namespace pythia::harness {
namespace fs = std::filesystem;

namespace {
bool has_fixtures(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / "mini-pythia", ec);
}
}  // namespace

fs::path bundled_fixtures_dir() {
  if (const char* env = std::getenv("PYTHIA_FIXTURES_DIR"); env != nullptr && *env != '\0') {
    if (!has_fixtures(env)) {
      throw UsageError(std::string("PYTHIA_FIXTURES_DIR=") + env + " holds no mini-pythia/ folder");
    }
    return env;
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path dir = exe.parent_path(); !dir.empty(); dir = dir.parent_path()) {
      if (has_fixtures(dir / "tests" / "fixtures")) return dir / "tests" / "fixtures";
      if (dir == dir.root_path()) break;
    }
  }
  throw UsageError(
      "the embedded default needs the bundled fixtures (tests/fixtures of the source tree), not "
      "found above " + exe.string() + ": set PYTHIA_FIXTURES_DIR or give --model");
}

}  // namespace pythia::harness

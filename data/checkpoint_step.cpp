#include "data/checkpoint_step.h"

namespace pythia::data {

std::optional<std::int64_t> step_of_revision(std::string_view name) {
  if (name.starts_with("global_")) name.remove_prefix(7);
  if (!name.starts_with("step")) return std::nullopt;
  name.remove_prefix(4);
  if (name.empty() || name.size() > 18) return std::nullopt;
  std::int64_t n = 0;
  for (const char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace pythia::data

#include "results/output_layout.h"

#include <charconv>

namespace pythia::results {

std::string revision_folder(const std::string& revision) {
  return revision.empty() ? std::string("main") : revision;
}

std::filesystem::path run_dir(const std::filesystem::path& root, const std::string& model,
                              const std::string& revision) {
  return root / model / revision_folder(revision);
}

std::string published_size_name(std::string_view model) {
  const auto slash = model.find_last_of('/');
  if (slash != std::string_view::npos) model.remove_prefix(slash + 1);
  for (std::string_view prefix : {"pythia-v1.1-", "pythia-"}) {
    if (model.starts_with(prefix) && model.size() > prefix.size()) {
      model.remove_prefix(prefix.size());
      break;
    }
  }
  return std::string(model);
}

std::string published_eval_file_name(std::string_view model, std::int64_t step, int num_fewshot) {
  std::string name = published_size_name(model);
  if (num_fewshot > 0) name += "-" + std::to_string(num_fewshot) + "shot";
  return name + "_step" + std::to_string(step) + ".json";
}

std::string shard_folder(std::uint64_t index, std::uint64_t count) {
  return "shard-" + std::to_string(index) + "-of-" + std::to_string(count);
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_shard_folder(std::string_view name) {
  auto number = [](std::string_view& s) -> std::optional<std::uint64_t> {
    std::uint64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr == s.data()) return std::nullopt;
    s.remove_prefix(static_cast<std::size_t>(r.ptr - s.data()));
    return v;
  };
  if (!name.starts_with("shard-")) return std::nullopt;
  name.remove_prefix(6);
  const auto k = number(name);
  if (!k || !name.starts_with("-of-")) return std::nullopt;
  name.remove_prefix(4);
  const auto n = number(name);
  if (!n || !name.empty() || *k >= *n) return std::nullopt;
  return std::pair{*k, *n};
}

}  // namespace pythia::results

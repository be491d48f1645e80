#include "model/model_resolver.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <tuple>

#include "data/error.h"

namespace pythia::model {
namespace {

namespace fs = std::filesystem;

bool is_checkpoint(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec) && fs::is_regular_file(dir / "config.json", ec);
}

std::optional<std::uint64_t> step_number(const std::string& name) {
  if (name.size() < 5 || name.compare(0, 4, "step") != 0 || name.size() > 4 + 18) {
    return std::nullopt;
  }
  std::uint64_t n = 0;
  for (std::size_t i = 4; i < name.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return n;
}

void sort_revisions(std::vector<std::string>& names) {
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    const auto sa = step_number(a), sb = step_number(b);
    return std::make_tuple(!sa.has_value(), sa.value_or(0), a) <
           std::make_tuple(!sb.has_value(), sb.value_or(0), b);
  });
}

std::string join(const std::vector<std::string>& names) {
  if (names.empty()) return "(none)";
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// The revision sub-folders of a stepped folder (layout (2)).
std::vector<std::string> subfolder_revisions(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (is_checkpoint(e.path())) out.push_back(e.path().filename().string());
  }
  sort_revisions(out);
  return out;
}

std::string display_name(const fs::path& dir) {
  fs::path p = dir.lexically_normal();
  if (!p.has_filename()) p = p.parent_path();  // "foo/" -> "foo"
  if (p.filename() == "." || p.filename().empty()) p = fs::absolute(p).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  return p.filename().string();
}

bool looks_like_repo_id(std::string_view model) {
  const auto slash = model.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == model.size()) return false;
  if (model.find('/', slash + 1) != std::string_view::npos) return false;
  for (const char c : model) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == '/')) {
      return false;
    }
  }
  return model.substr(0, slash) != "." && model.substr(0, slash) != "..";
}

fs::path repo_folder(std::string_view repo_id) {
  std::string name = "models--" + std::string(repo_id);
  const auto slash = name.find('/');
  name.replace(slash, 1, "--");
  return hf_hub_cache_dir() / name;
}

// Ref names under <repo>/refs (nested refs such as pr/1 as "pr/1").
std::vector<std::string> cache_refs(const fs::path& repo) {
  std::vector<std::string> out;
  std::error_code ec;
  const fs::path refs = repo / "refs";
  for (auto it = fs::recursive_directory_iterator(refs, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) out.push_back(it->path().lexically_relative(refs).generic_string());
  }
  sort_revisions(out);
  return out;
}

std::string read_ref(const fs::path& file) {
  std::ifstream in(file);
  std::string sha;
  in >> sha;
  return sha;
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

}  // namespace

fs::path hf_hub_cache_dir() {
  // huggingface_hub 0.23.0 constants.py: HF_HUB_CACHE = $HF_HUB_CACHE or $HUGGINGFACE_HUB_CACHE
  // or $HF_HOME/hub, with HF_HOME = $HF_HOME or $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface.
  if (const char* v = env("HF_HUB_CACHE")) return v;
  if (const char* v = env("HUGGINGFACE_HUB_CACHE")) return v;
  if (const char* v = env("HF_HOME")) return fs::path(v) / "hub";
  if (const char* v = env("XDG_CACHE_HOME")) return fs::path(v) / "huggingface" / "hub";
  const char* home = env("HOME");
  return fs::path(home != nullptr ? home : "/") / ".cache" / "huggingface" / "hub";
}

ResolvedModel resolve_model(std::string_view model, std::string_view revision) {
  const fs::path path{std::string(model)};
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (is_checkpoint(path)) {
      if (!revision.empty()) {
        if (is_checkpoint(path / std::string(revision))) {
          return {path / std::string(revision), display_name(path), std::string(revision), ""};
        }
        throw DataError(path.string(), "is a single checkpoint (it holds config.json); it has no "
                                       "revision '" + std::string(revision) + "'");
      }
      return {path, display_name(path), "", ""};
    }
    const auto revs = subfolder_revisions(path);
    if (revs.empty()) {
      throw DataError(path.string(), "not a model folder: no config.json and no revision "
                                     "sub-folders (stepN/ with config.json)");
    }
    if (revision.empty()) {
      throw DataError(path.string(), "holds several revisions; choose one with --revision: " +
                                         join(revs));
    }
    const fs::path sub = path / std::string(revision);
    if (!is_checkpoint(sub)) {
      throw DataError(path.string(), "has no revision '" + std::string(revision) +
                                         "'; available: " + join(revs));
    }
    return {sub, display_name(path), std::string(revision), ""};
  }
  if (fs::exists(path, ec)) {
    throw DataError(path.string(), "is a file; pass the checkpoint folder that holds config.json "
                                   "and the weights");
  }
  if (!looks_like_repo_id(model)) {
    throw DataError(std::string(model), "no such model folder, and not a Hugging Face repo id "
                                        "of the form ORG/NAME");
  }
  const fs::path repo = repo_folder(model);
  if (!fs::is_directory(repo, ec)) {
    throw DataError(repo.string(), "model '" + std::string(model) + "' is not in the local "
                                   "Hugging Face cache (" + hf_hub_cache_dir().string() +
                                   "); download it first (this tool never uses the network)");
  }
  const std::string rev = revision.empty() ? "main" : std::string(revision);
  std::string sha;
  if (rev.find("..") == std::string::npos && fs::is_regular_file(repo / "refs" / rev, ec)) {
    sha = read_ref(repo / "refs" / rev);
    if (sha.empty()) throw DataError((repo / "refs" / rev).string(), "empty ref file");
  } else if (rev.find('/') == std::string::npos && rev != "." && rev != ".." &&
             fs::is_directory(repo / "snapshots" / rev, ec)) {
    sha = rev;  // a commit sha naming a snapshot folder directly
  } else {
    throw DataError(repo.string(), "model '" + std::string(model) + "' has no revision '" + rev +
                                       "' in the local cache; available: " +
                                       join(cache_refs(repo)));
  }
  const fs::path snapshot = repo / "snapshots" / sha;
  if (!is_checkpoint(snapshot)) {
    throw DataError(snapshot.string(), "revision '" + rev + "' of '" + std::string(model) +
                                           "' points at snapshot " + sha +
                                           ", which has no config.json (incomplete download?)");
  }
  return {snapshot, std::string(model), rev, sha};
}

std::vector<std::string> list_revisions(std::string_view model) {
  const fs::path path{std::string(model)};
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (is_checkpoint(path)) return {};
    return subfolder_revisions(path);
  }
  if (!looks_like_repo_id(model)) {
    throw DataError(std::string(model), "no such model folder, and not a Hugging Face repo id "
                                        "of the form ORG/NAME");
  }
  const fs::path repo = repo_folder(model);
  if (!fs::is_directory(repo, ec)) {
    throw DataError(repo.string(), "model '" + std::string(model) + "' is not in the local "
                                   "Hugging Face cache (" + hf_hub_cache_dir().string() + ")");
  }
  return cache_refs(repo);
}

}  // namespace pythia::model

// See model_identity.h.
#include "results/model_identity.h"

#include <algorithm>

#include "data/sha256.h"
#include "results/eval_results.h"
#include "results/memorization_file.h"
#include "results/results_reader.h"

namespace pythia::results {
namespace {

using J = nlohmann::ordered_json;

bool is_hex(const std::string& s, std::size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

std::string combined_weights_sha256(std::vector<WeightFileDigest> files) {
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::string lines;
  for (const auto& f : files) lines += f.sha256 + "  " + f.name + "\n";
  data::Sha256 h;
  h.update({reinterpret_cast<const unsigned char*>(lines.data()), lines.size()});
  return h.hex_digest();
}

J to_json(const ModelIdentity& id) {
  J files = J::array();
  for (const auto& f : id.weight_files) {
    files.push_back(J{{"name", f.name}, {"bytes", f.bytes}, {"sha256", f.sha256}});
  }
  J same = J::array();
  for (const auto& r : id.identical_weights_as) same.push_back(r);
  return J{{"weights_sha256", id.weights_sha256},
           {"weight_files", std::move(files)},
           {"hf_commit", id.hf_commit.empty() ? J(nullptr) : J(id.hf_commit)},
           {"num_parameters", id.num_parameters},
           {"identical_weights_as", std::move(same)}};
}

ModelIdentity parse_model_identity(const nlohmann::json& j, const std::string& file) {
  auto bad = [&](const std::string& what) {
    return ResultsFileError(file, std::string(kModelIdentityKey) + ": " + what);
  };
  if (!j.is_object()) throw bad("not an object");
  ModelIdentity id;
  if (!j.contains("weights_sha256") || !j["weights_sha256"].is_string() ||
      !is_hex(j["weights_sha256"].get<std::string>(), 64)) {
    throw bad("weights_sha256 is not 64 lower-case hex digits");
  }
  id.weights_sha256 = j["weights_sha256"].get<std::string>();
  if (j.contains("weight_files")) {
    if (!j["weight_files"].is_array()) throw bad("weight_files is not an array");
    for (const auto& f : j["weight_files"]) {
      if (!f.is_object() || !f.contains("name") || !f["name"].is_string() || !f.contains("bytes") ||
          !f["bytes"].is_number_unsigned() || !f.contains("sha256") || !f["sha256"].is_string()) {
        throw bad("weight_files entry is not {name, bytes, sha256}");
      }
      id.weight_files.push_back({f["name"].get<std::string>(), f["bytes"].get<std::uint64_t>(),
                                 f["sha256"].get<std::string>()});
    }
  }
  if (j.contains("hf_commit") && !j["hf_commit"].is_null()) {
    if (!j["hf_commit"].is_string()) throw bad("hf_commit is not a string or null");
    id.hf_commit = j["hf_commit"].get<std::string>();
  }
  if (j.contains("num_parameters")) {
    if (!j["num_parameters"].is_number_integer()) throw bad("num_parameters is not an integer");
    id.num_parameters = j["num_parameters"].get<std::int64_t>();
  }
  if (j.contains("identical_weights_as")) {
    if (!j["identical_weights_as"].is_array()) throw bad("identical_weights_as is not an array");
    for (const auto& r : j["identical_weights_as"]) {
      if (!r.is_string()) throw bad("identical_weights_as holds a non-string");
      id.identical_weights_as.push_back(r.get<std::string>());
    }
  }
  return id;
}

std::optional<ModelIdentity> read_recorded_identity(const std::filesystem::path& checkpoint_dir) {
  for (const char* name : {kMemorizationJson, "results.json"}) {
    const auto path = checkpoint_dir / name;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) continue;
    try {
      const nlohmann::json j = read_json_file(path);
      if (j.is_object() && j.contains(kModelIdentityKey)) {
        return parse_model_identity(j[kModelIdentityKey], path.string());
      }
    } catch (const std::exception&) {
      // unreadable or malformed: treated as holding no identity
    }
  }
  return std::nullopt;
}

}  // namespace pythia::results

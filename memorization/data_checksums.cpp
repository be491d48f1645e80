#include "memorization/data_checksums.h"

#include <cctype>
#include <fstream>
#include <map>

#include "data/error.h"
#include "data/sha256.h"

namespace pythia::memorization {
namespace fs = std::filesystem;
using J = nlohmann::ordered_json;

namespace {
constexpr std::uint64_t kCheapBinBytes = std::uint64_t{1} << 30;
}  // namespace

J describe_data(const data::IndexedDataset& ds, const ScanPlan& o, bool layout_checked) {
  // Expected hashes (utils/shard_hashes.txt format: "<filename> <64 hex>" per line).
  std::map<std::string, std::string> expected;
  if (!o.verify_sha256.empty()) {
    const std::string list = o.verify_sha256.string();
    std::ifstream in(o.verify_sha256);
    if (!in) throw DataError(list, "cannot open the checksum list");
    auto is_hex64 = [](const std::string& t) {
      return t.size() == 64 && t.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
    };
    std::string name, hex;
    while (in >> name >> hex) {
      if (is_hex64(name) && !is_hex64(hex)) std::swap(name, hex);  // sha256sum order
      if (!is_hex64(hex)) throw DataError(list, "line for '" + name + "' has no 64-digit SHA-256");
      if (!name.empty() && name[0] == '*') name.erase(0, 1);      // sha256sum binary marker
      for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      expected[fs::path(name).filename().string()] = hex;
    }
  }
  J files = J::array();
  auto describe = [&](const fs::path& p, bool hash) {
    const std::string name = p.filename().string();
    const auto want = expected.find(name);
    std::string sum;
    if (hash || want != expected.end()) sum = data::sha256_file(p);
    if (want != expected.end() && want->second != sum) {
      throw DataError(p.string(), "SHA-256 " + sum + " differs from " + want->second + " listed in " + o.verify_sha256.string());
    }
    J f = {{"name", name}, {"bytes", fs::file_size(p)}, {"sha256", sum.empty() ? J(nullptr) : J(sum)}};
    if (!expected.empty()) f["verified"] = want != expected.end();
    files.push_back(f);
  };
  const bool idx_sum = o.checksums != Checksums::kNone;
  describe(ds.idx_path(), idx_sum);
  const bool bin_sum = o.checksums == Checksums::kAll || (o.checksums == Checksums::kAuto && ds.bin_bytes() <= kCheapBinBytes);
  for (const auto& p : ds.bin_paths()) describe(p, bin_sum);
  std::string note = "sha256 of every file";
  if (!idx_sum) {
    note = "checksums skipped (--checksums none)";
  } else if (!bin_sum) {
    note = o.checksums == Checksums::kIdx ? "sha256 of the .idx only (--checksums idx)"
                                : "sha256 of the .idx only: .bin larger than 1 GiB (--checksums all to hash it)";
  }
  return J{{"prefix", o.data.string()},
           {"items", ds.size()},
           {"dtype_code", ds.dtype_code()},
           {"layout", layout_checked ? "preshuffled (2049-token rows)" : "unchecked (--any-layout)"},
           {"files", files},
           {"checksums", note}};
}

}  // namespace pythia::memorization

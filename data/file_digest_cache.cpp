// See file_digest_cache.h.
#include "data/file_digest_cache.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/atomic_file.h"
#include "data/error.h"
#include "data/sha256.h"

namespace pythia::data {
namespace {

namespace fs = std::filesystem;
constexpr const char* kFormat = "pythia-harness file-sha256 cache";
constexpr int kVersion = 1;

struct FileStamp {
  std::uint64_t bytes = 0;
  std::int64_t mtime_ns = 0;
};

FileStamp stamp_of(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) throw DataError(file.string(), "cannot stat for checksumming");
  if (!S_ISREG(st.st_mode)) throw DataError(file.string(), "not a regular file");
  FileStamp s;
  s.bytes = static_cast<std::uint64_t>(st.st_size);
  s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return s;
}

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

}  // namespace

fs::path default_digest_cache_file() {
  if (const char* v = env("PYTHIA_HARNESS_CACHE")) return fs::path(v) / "file-sha256.json";
  if (const char* v = env("XDG_CACHE_HOME")) return fs::path(v) / "pythia-harness" / "file-sha256.json";
  const char* home = env("HOME");
  return fs::path(home != nullptr ? home : "/") / ".cache" / "pythia-harness" / "file-sha256.json";
}

FileDigestCache::FileDigestCache(fs::path cache_file) : cache_file_(std::move(cache_file)) {
  if (!cache_file_.empty()) entries_ = load(true);
}

std::map<std::string, FileDigestCache::Entry> FileDigestCache::load(bool warn) const {
  std::map<std::string, Entry> out;
  std::error_code ec;
  if (!fs::exists(cache_file_, ec)) return out;
  auto complain = [&](const std::string& problem) {
    if (warn) {
      std::fprintf(stderr, "warning: %s: %s; digests will be recomputed\n", cache_file_.c_str(),
                   problem.c_str());
    }
  };
  std::ifstream in(cache_file_, std::ios::binary);
  if (!in) {
    complain("cannot open the hash cache");
    return out;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    complain("hash cache is not a JSON object (corrupt?)");
    return out;
  }
  if (j.value("format", "") != kFormat || !j.contains("version") || j["version"] != kVersion ||
      !j.contains("files") || !j["files"].is_object()) {
    complain("hash cache has another format or version");
    return out;
  }
  std::size_t bad = 0;
  for (const auto& [path, e] : j["files"].items()) {
    if (!e.is_object() || !e.contains("bytes") || !e["bytes"].is_number_unsigned() ||
        !e.contains("mtime_ns") || !e["mtime_ns"].is_number_integer() || !e.contains("sha256") ||
        !e["sha256"].is_string() || !is_hex64(e["sha256"].get<std::string>())) {
      ++bad;
      continue;
    }
    out[path] = Entry{e["bytes"].get<std::uint64_t>(), e["mtime_ns"].get<std::int64_t>(),
                      e["sha256"].get<std::string>()};
  }
  if (bad > 0) complain(std::to_string(bad) + " malformed hash cache entr" + (bad == 1 ? "y" : "ies"));
  return out;
}

void FileDigestCache::save() {
  // Caller holds mu_. Merge what other processes wrote meanwhile; our entries win.
  std::map<std::string, Entry> merged = load(false);
  for (const auto& [k, v] : entries_) merged[k] = v;
  nlohmann::json files = nlohmann::json::object();
  for (const auto& [k, v] : merged) {
    files[k] = {{"bytes", v.bytes}, {"mtime_ns", v.mtime_ns}, {"sha256", v.sha256}};
  }
  const nlohmann::json doc = {{"format", kFormat}, {"version", kVersion}, {"files", files}};
  try {
    write_file_atomic(cache_file_, doc.dump(1) + "\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warning: hash cache not saved: %s\n", e.what());
  }
}

std::string FileDigestCache::sha256(const fs::path& file) {
  std::error_code ec;
  fs::path abs = fs::absolute(file, ec);
  if (ec) abs = file;
  abs = abs.lexically_normal();
  const std::string key = abs.string();
  const FileStamp before = stamp_of(abs);
  {
    std::lock_guard lock(mu_);
    const auto it = entries_.find(key);
    if (it != entries_.end() && it->second.bytes == before.bytes &&
        it->second.mtime_ns == before.mtime_ns) {
      return it->second.sha256;
    }
  }
  const std::string digest = sha256_file(abs);
  files_hashed_ += 1;
  bytes_hashed_ += before.bytes;
  const FileStamp after = stamp_of(abs);
  if (after.bytes != before.bytes || after.mtime_ns != before.mtime_ns) {
    throw DataError(abs.string(), "changed while it was being checksummed");
  }
  std::lock_guard lock(mu_);
  entries_[key] = Entry{before.bytes, before.mtime_ns, digest};
  if (!cache_file_.empty()) save();
  return digest;
}

}  // namespace pythia::data

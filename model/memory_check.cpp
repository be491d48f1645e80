#include "model/memory_check.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>
#include <vector>

#include "data/error.h"

namespace pythia::model {
namespace {

namespace fs = std::filesystem;

std::optional<std::uint64_t> read_u64_file(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  if (!(in >> s)) return std::nullopt;
  if (s == "max") return std::nullopt;  // cgroup v2: no limit
  try {
    return std::stoull(s);
  } catch (...) {
    return std::nullopt;
  }
}

// Value of `key` in a "key value" file (memory.stat), or nullopt.
std::optional<std::uint64_t> read_stat(const fs::path& p, std::string_view key) {
  std::ifstream in(p);
  std::string k;
  std::uint64_t v = 0;
  while (in >> k >> v)
    if (k == key) return v;
  return std::nullopt;
}

std::optional<std::uint64_t> mem_available() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream ss(line.substr(13));
      std::uint64_t kb = 0;
      if (ss >> kb) return kb * 1024;
    }
  }
  return std::nullopt;
}

// "/a/b" -> {"/a/b", "/a", "/"}.
std::vector<std::string> self_and_ancestors(std::string path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    out.push_back(path);
    if (path == "/") break;
    const auto slash = path.rfind('/');
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
  return out;
}

// Tightest cgroup headroom (limit - non-file usage) on this process's cgroup path.
void apply_cgroup_limits(MemoryLimit& best, bool& have) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    // "0::/path" (v2) or "4:memory:/path" (v1).
    const auto c1 = line.find(':');
    const auto c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    const std::string controllers = line.substr(c1 + 1, c2 - c1 - 1);
    const std::string path = line.substr(c2 + 1);
    const bool v2 = line.substr(0, c1) == "0" && controllers.empty();
    const bool v1 = controllers == "memory" ||
                    controllers.find("memory,") == 0 ||
                    controllers.find(",memory") != std::string::npos;
    if (!v1 && !v2) continue;
    const fs::path root = v2 ? fs::path("/sys/fs/cgroup") : fs::path("/sys/fs/cgroup/memory");
    for (const auto& p : self_and_ancestors(path)) {
      const fs::path dir = p == "/" ? root : root / p.substr(1);
      const auto limit = read_u64_file(dir / (v2 ? "memory.max" : "memory.limit_in_bytes"));
      if (!limit || *limit >= (std::uint64_t{1} << 60)) continue;  // absent or "unlimited"
      const auto usage = read_u64_file(dir / (v2 ? "memory.current" : "memory.usage_in_bytes"));
      const auto file = read_stat(dir / "memory.stat", v2 ? "file" : "total_cache");
      std::uint64_t used = usage.value_or(0);
      used -= std::min(used, file.value_or(0));
      const std::uint64_t headroom = *limit > used ? *limit - used : 0;
      if (!have || headroom < best.available) {
        best.available = headroom;
        best.source = "cgroup memory limit " + (dir / (v2 ? "memory.max" : "memory.limit_in_bytes")).string();
        have = true;
      }
    }
  }
}

std::string gb(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GB", static_cast<double>(bytes) / 1e9);
  return buf;
}

std::uint64_t file_size_or_0(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<std::uint64_t>(n);
}

// Sum of the distinct shard files named by an index's weight_map (0 if unreadable: open()
// reports a bad index).
std::uint64_t sharded_bytes(const fs::path& dir, const fs::path& index) {
  std::ifstream in(index);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (...) {
    return 0;
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object()) return 0;
  std::set<std::string> shards;
  for (const auto& [name, shard] : j["weight_map"].items())
    if (shard.is_string()) shards.insert(shard.get<std::string>());
  std::uint64_t n = 0;
  for (const auto& s : shards)
    if (s.find('/') == std::string::npos) n += file_size_or_0(dir / s);
  return n;
}

}  // namespace

std::optional<MemoryLimit> available_memory() {
  MemoryLimit best;
  bool have = false;
  if (const auto a = mem_available()) {
    best = {*a, "MemAvailable in /proc/meminfo"};
    have = true;
  }
  apply_cgroup_limits(best, have);
  if (!have) return std::nullopt;
  return best;
}

std::uint64_t checkpoint_weight_bytes(const fs::path& dir) {
  // The same precedence as TensorStore::open.
  if (fs::exists(dir / "model.safetensors")) return file_size_or_0(dir / "model.safetensors");
  if (fs::exists(dir / "model.safetensors.index.json"))
    return sharded_bytes(dir, dir / "model.safetensors.index.json");
  if (fs::exists(dir / "pytorch_model.bin")) return file_size_or_0(dir / "pytorch_model.bin");
  if (fs::exists(dir / "pytorch_model.bin.index.json"))
    return sharded_bytes(dir, dir / "pytorch_model.bin.index.json");
  return 0;
}

std::uint64_t estimate_resident_bytes(std::uint64_t weight_bytes) {
  return weight_bytes + weight_bytes / 20 + (std::uint64_t{512} << 20);
}

std::uint64_t kv_cache_bytes(const NeoxConfig& c, const Workload& w) {
  // A cache never holds more than the model's positions (an input bound may exceed them).
  const std::int64_t positions = w.positions > 0 ? std::min<std::int64_t>(w.positions, c.max_position_embeddings)
                                                 : c.max_position_embeddings;
  if (w.sequences <= 0 || positions <= 0) return 0;
  return std::uint64_t{2} * static_cast<std::uint64_t>(c.num_hidden_layers) *
         static_cast<std::uint64_t>(c.hidden_size) * sizeof(float) *
         static_cast<std::uint64_t>(positions) * static_cast<std::uint64_t>(w.sequences);
}

std::uint64_t bf16_copy_bytes(const NeoxConfig& c) {
  const auto panel = [](std::uint64_t n, std::uint64_t k) { return (n + 63) / 64 * 64 * ((k + 1) / 2 * 2) * 2; };
  const std::uint64_t C = static_cast<std::uint64_t>(c.hidden_size);
  const std::uint64_t I = static_cast<std::uint64_t>(c.intermediate_size);
  const std::uint64_t layer = panel(3 * C, C) + panel(C, C) + panel(I, C) + panel(C, I);
  return static_cast<std::uint64_t>(c.num_hidden_layers) * layer +
         panel(static_cast<std::uint64_t>(c.vocab_size), C);
}

void check_memory_fits(const fs::path& dir, std::uint64_t weight_bytes, const MemoryLimit& limit,
                       std::uint64_t kv_bytes, const std::string& kv_what, std::uint64_t bf16_bytes) {
  const std::uint64_t need = estimate_resident_bytes(weight_bytes) + kv_bytes + bf16_bytes;
  if (need <= limit.available) return;
  std::string kv;
  if (kv_bytes > 0)
    kv = " + " + gb(kv_bytes) + " of KV caches (" + kv_what + ")";
  if (bf16_bytes > 0)
    kv += " + " + gb(bf16_bytes) + " of bf16 copies of the matrices (--compute bf16; --compute fp32 "
          "does without them)";
  throw DataError(dir.string(),
                  "this model needs about " + gb(need) + " of memory to load and run (" +
                      gb(weight_bytes) + " of weights, kept in their stored dtype, + 5 % + 512 MiB "
                      "of working memory" + kv + ") but only " + gb(limit.available) +
                      " is available (" + limit.source + "); not loading it. Use a machine with "
                      "more memory, a smaller model, or set PYTHIA_SKIP_MEMORY_CHECK=1 to try anyway");
}

void check_memory_for_checkpoint(const fs::path& dir, const NeoxConfig& config, const Workload& work) {
  if (const char* skip = std::getenv("PYTHIA_SKIP_MEMORY_CHECK"); skip != nullptr && std::string_view(skip) == "1")
    return;
  const std::uint64_t weights = checkpoint_weight_bytes(dir);
  if (weights == 0) return;
  const auto limit = available_memory();
  if (!limit) return;
  check_memory_fits(dir, weights, *limit, kv_cache_bytes(config, work), work.what,
                    work.bf16_copies ? bf16_copy_bytes(config) : 0);
}

}  // namespace pythia::model

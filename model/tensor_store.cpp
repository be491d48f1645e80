#include "model/tensor_store.h"

#include <array>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "data/error.h"
#include "model/cpu_features.h"
#include "model/float16.h"
#include "model/safetensors.h"
#include "model/torch_checkpoint.h"

namespace pythia::model {

static_assert(std::endian::native == std::endian::little,
              "the loader reads little-endian tensors in place; big-endian hosts are unsupported");

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF64: case DType::kI64: case DType::kU64: return 8;
    case DType::kF32: case DType::kI32: case DType::kU32: return 4;
    case DType::kF16: case DType::kBF16: case DType::kI16: case DType::kU16: return 2;
    case DType::kI8: case DType::kU8: case DType::kBool: return 1;
  }
  return 1;
}

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kF32: return "F32";
    case DType::kF64: return "F64";
    case DType::kI64: return "I64";
    case DType::kI32: return "I32";
    case DType::kI16: return "I16";
    case DType::kI8: return "I8";
    case DType::kU8: return "U8";
    case DType::kU16: return "U16";
    case DType::kU32: return "U32";
    case DType::kU64: return "U64";
    case DType::kBool: return "BOOL";
  }
  return "?";
}

std::string shape_string(std::span<const std::int64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::int64_t element_count(std::span<const std::int64_t> shape) {
  std::int64_t n = 1;
  for (const auto d : shape) n *= d;
  return n;
}

namespace {

const std::array<float, 65536>& half_table() {
  static const auto table = [] {
    auto t = std::make_unique<std::array<float, 65536>>();
    for (std::uint32_t i = 0; i < 65536; ++i) {
      (*t)[i] = f16_to_f32(static_cast<std::uint16_t>(i));
    }
    return t;
  }();
  return *table;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define PYTHIA_HAVE_F16C_PATH 1
// Hardware half -> float (F16C vcvtph2ps; IEEE exact, same values as the table except that a
// signalling NaN comes out quiet). Chosen at run time, so the default build stays portable.
__attribute__((target("avx,f16c"))) void half_to_float_f16c(const std::byte* src, std::size_t n,
                                                             float* dst) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  const auto& table = half_table();
  for (; i < n; ++i) {
    std::uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = table[h];
  }
}

bool cpu_has_f16c() {
  static const bool has = __builtin_cpu_supports("avx") && cpu_has_f16c_bit();
  return has;
}
#endif

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path.string(), "cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw DataError(path.string(), std::string("not valid JSON: ") + e.what());
  }
}

struct Loaded {
  std::vector<TensorInfo> tensors;
  std::vector<std::shared_ptr<const void>> owners;
};

Loaded load_one(const std::filesystem::path& file, bool safetensors) {
  Loaded l;
  if (safetensors) {
    auto f = read_safetensors(file);
    l.tensors = std::move(f.tensors);
    l.owners.push_back(std::move(f.mapping));
  } else {
    auto c = read_torch_checkpoint(file);
    l.tensors = std::move(c.tensors);
    l.owners.push_back(std::move(c.owner));
  }
  return l;
}

// model.safetensors.index.json / pytorch_model.bin.index.json (transformers' sharded layout):
// {"metadata": {...}, "weight_map": {"<tensor>": "<shard file>", ...}}.
// The weight_map of a shard index, by shard file: shard -> tensor names (validated).
std::map<std::string, std::vector<std::string>> shard_map(const std::filesystem::path& index) {
  const auto j = read_json_file(index);
  const std::string file = index.string();
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object()) {
    throw DataError(file, "shard index has no \"weight_map\" object");
  }
  std::map<std::string, std::vector<std::string>> wanted;  // shard -> tensor names
  for (const auto& [name, shard] : j["weight_map"].items()) {
    if (!shard.is_string()) {
      throw DataError(file, "weight_map entry '" + name + "' is not a file name string");
    }
    const auto s = shard.get<std::string>();
    if (s.empty() || s.find('/') != std::string::npos || s.find('\\') != std::string::npos ||
        s == "." || s == "..") {
      throw DataError(file, "weight_map entry '" + name + "' names shard \"" + s +
                                "\", which is not a plain file name in the folder");
    }
    wanted[s].push_back(name);
  }
  if (wanted.empty()) throw DataError(file, "weight_map is empty");
  return wanted;
}

TensorStore load_sharded(const std::filesystem::path& dir, const std::filesystem::path& index,
                         bool safetensors) {
  const std::string file = index.string();
  const auto wanted = shard_map(index);
  std::vector<TensorInfo> all;
  std::vector<std::shared_ptr<const void>> owners;
  for (const auto& [shard, names] : wanted) {
    const auto path = dir / shard;
    if (!std::filesystem::is_regular_file(path)) {
      throw DataError(file, "shard \"" + shard + "\" (holding '" + names.front() +
                                "') is missing from " + dir.string());
    }
    auto l = load_one(path, safetensors);
    std::set<std::string, std::less<>> present;
    for (const auto& t : l.tensors) present.insert(t.name);
    for (const auto& n : names) {
      if (!present.contains(n)) {
        throw DataError(path.string(), "tensor '" + n + "' is listed for this shard in " +
                                           index.filename().string() + " but is not in it");
      }
    }
    for (auto& t : l.tensors) all.push_back(std::move(t));
    for (auto& o : l.owners) owners.push_back(std::move(o));
  }
  const auto source = index.filename().string() + " (" + std::to_string(wanted.size()) +
                      (wanted.size() == 1 ? " shard" : " shards") + ")";
  return TensorStore::from_tensors(dir, source, std::move(all), std::move(owners));
}

}  // namespace

void convert_f16_to_f32_portable(const std::byte* src, std::size_t count, float* dst) {
  const auto& table = half_table();
  for (std::size_t i = 0; i < count; ++i) {
    std::uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = table[h];
  }
}

bool convert_to_f32(DType dtype, const std::byte* src, std::size_t count, float* dst) {
  switch (dtype) {
    case DType::kF32:
      // An empty tensor may come with null pointers (an empty output vector), and memcpy with a
      // null pointer is undefined even for 0 bytes (UBSan, fuzz_safetensors).
      if (count != 0) std::memcpy(dst, src, count * 4);
      return true;
    case DType::kF16: {
#ifdef PYTHIA_HAVE_F16C_PATH
      if (cpu_has_f16c()) {
        half_to_float_f16c(src, count, dst);
        return true;
      }
#endif
      convert_f16_to_f32_portable(src, count, dst);
      return true;
    }
    case DType::kBF16:
      for (std::size_t i = 0; i < count; ++i) {
        std::uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = bf16_to_f32(h);
      }
      return true;
    default:
      return false;
  }
}

void release_mapped_pages(std::span<const std::byte> bytes) {
  static const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto b = reinterpret_cast<std::uintptr_t>(bytes.data());
  const std::uintptr_t first = (b + page - 1) / page * page;  // whole pages only: a partial
  const std::uintptr_t last = (b + bytes.size()) / page * page;  // page may hold other tensors
  if (last > first) {
    // Advice only: a failure changes no data, so it is ignored.
    (void)::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
  }
}

void release_tensor_pages(const TensorInfo& t, std::size_t begin, std::size_t end) {
  if (!t.file_backed) return;
  end = std::min(end, t.bytes.size());
  if (begin >= end) return;
  release_mapped_pages(t.bytes.subspan(begin, end - begin));
}

TensorStore TensorStore::from_tensors(std::filesystem::path dir, std::string source,
                                      std::vector<TensorInfo> tensors,
                                      std::vector<std::shared_ptr<const void>> owners) {
  TensorStore s;
  s.dir_ = std::move(dir);
  s.source_ = std::move(source);
  s.tensors_ = std::move(tensors);
  s.owners_ = std::move(owners);
  for (std::size_t i = 0; i < s.tensors_.size(); ++i) {
    const auto [it, inserted] = s.index_.emplace(s.tensors_[i].name, i);
    if (!inserted) {
      const auto& first = s.tensors_[it->second];
      throw DataError(s.tensors_[i].file, "tensor '" + first.name + "' appears twice (also in " +
                                              first.file + ")");
    }
  }
  return s;
}

namespace {

// The file open() reads first: the first of the four layouts present, in transformers' order.
std::filesystem::path layout_file(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw DataError(dir.string(), "not a checkpoint folder");
  for (const char* name : {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                           "pytorch_model.bin.index.json"}) {
    if (fs::exists(dir / name)) return dir / name;
  }
  throw DataError(dir.string(), "no model weights: expected model.safetensors, "
                                "model.safetensors.index.json, pytorch_model.bin or "
                                "pytorch_model.bin.index.json");
}

bool is_index(const std::filesystem::path& p) { return p.filename().string().ends_with(".index.json"); }
bool is_safetensors(const std::filesystem::path& p) { return p.filename().string().starts_with("model.safetensors"); }

}  // namespace

TensorStore TensorStore::open(const std::filesystem::path& dir) {
  const auto p = layout_file(dir);
  if (is_index(p)) return load_sharded(dir, p, is_safetensors(p));
  auto l = load_one(p, is_safetensors(p));
  return from_tensors(dir, p.filename().string(), std::move(l.tensors), std::move(l.owners));
}

std::vector<std::filesystem::path> checkpoint_weight_files(const std::filesystem::path& dir) {
  const auto p = layout_file(dir);
  if (!is_index(p)) return {p};
  std::vector<std::filesystem::path> out;
  for (const auto& [shard, names] : shard_map(p)) out.push_back(dir / shard);  // sorted by name
  return out;
}

const TensorInfo* TensorStore::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

std::vector<std::string> TensorStore::names() const {
  std::vector<std::string> out;
  out.reserve(index_.size());
  for (const auto& [name, i] : index_) out.push_back(name);
  return out;
}

const TensorInfo& TensorStore::require(std::string_view name,
                                       std::span<const std::int64_t> expected_shape) const {
  const TensorInfo* t = find(name);
  if (t == nullptr) {
    throw DataError((dir_ / source_.substr(0, source_.find(' '))).string(),
                    "tensor '" + std::string(name) + "' is missing");
  }
  if (!std::equal(t->shape.begin(), t->shape.end(), expected_shape.begin(),
                  expected_shape.end())) {
    throw DataError(t->file, "tensor '" + t->name + "': expected shape " +
                                 shape_string(expected_shape) + ", found " +
                                 shape_string(t->shape));
  }
  return *t;
}

void TensorStore::read_f32_into(std::string_view name,
                                std::span<const std::int64_t> expected_shape,
                                std::span<float> out) const {
  const TensorInfo* t = &require(name, expected_shape);
  const auto n = static_cast<std::size_t>(element_count(t->shape));
  if (out.size() != n) {
    throw DataError(t->file, "tensor '" + t->name + "': output buffer holds " +
                                 std::to_string(out.size()) + " floats, tensor has " +
                                 std::to_string(n));
  }
  if (t->dtype != DType::kF16 && t->dtype != DType::kBF16 && t->dtype != DType::kF32) {
    throw DataError(t->file, "tensor '" + t->name + "' has dtype " +
                                 std::string(dtype_name(t->dtype)) +
                                 "; only F16, BF16 and F32 weights are supported");
  }
  // Element-wise, so splitting the work cannot change a single bit of the result.
  constexpr std::size_t kGrain = std::size_t{1} << 18;
  const std::size_t esize = dtype_size(t->dtype);
  if (n < 2 * kGrain) {
    convert_to_f32(t->dtype, t->bytes.data(), n, out.data());
    return;
  }
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, kGrain),
                    [&](const tbb::blocked_range<std::size_t>& r) {
                      convert_to_f32(t->dtype, t->bytes.data() + r.begin() * esize, r.size(),
                                     out.data() + r.begin());
                    });
}

std::vector<float> TensorStore::read_f32(std::string_view name,
                                         std::span<const std::int64_t> expected_shape) const {
  const TensorInfo* t = find(name);
  std::vector<float> out;
  if (t != nullptr && std::equal(t->shape.begin(), t->shape.end(), expected_shape.begin(),
                                 expected_shape.end())) {
    out.resize(static_cast<std::size_t>(element_count(t->shape)));
  }
  read_f32_into(name, expected_shape, out);  // reports missing / shape errors
  return out;
}

std::string TensorStore::description() const {
  std::set<std::string_view> dtypes;
  for (const auto& t : tensors_) dtypes.insert(dtype_name(t.dtype));
  std::string s = source_ + " (";
  bool first = true;
  for (const auto d : dtypes) {
    if (!first) s += ", ";
    s += d;
    first = false;
  }
  return s + ")";
}

}  // namespace pythia::model

#include "model/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "data/error.h"

namespace pythia::model {
namespace {

// Same cap as huggingface/safetensors (MAX_HEADER_SIZE = 100_000_000).
constexpr std::uint64_t kMaxHeaderSize = 100'000'000;
// Deepest JSON nesting accepted in a header ({"name": {"shape": [..]}} is 3 levels).
constexpr int kMaxHeaderDepth = 64;

std::optional<DType> parse_dtype(const std::string& s) {
  static const std::pair<const char*, DType> kTable[] = {
      {"F16", DType::kF16}, {"BF16", DType::kBF16}, {"F32", DType::kF32}, {"F64", DType::kF64},
      {"I64", DType::kI64}, {"I32", DType::kI32},   {"I16", DType::kI16}, {"I8", DType::kI8},
      {"U8", DType::kU8},   {"U16", DType::kU16},   {"U32", DType::kU32}, {"U64", DType::kU64},
      {"BOOL", DType::kBool}};
  for (const auto& [name, t] : kTable) {
    if (s == name) return t;
  }
  return std::nullopt;
}

// A non-negative JSON integer, or nullopt.
std::optional<std::uint64_t> as_u64(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer()) {
    const auto x = v.get<std::int64_t>();
    if (x >= 0) return static_cast<std::uint64_t>(x);
  }
  return std::nullopt;
}

}  // namespace

std::vector<TensorInfo> parse_safetensors(std::span<const std::byte> bytes,
                                          const std::string& file) {
  const std::uint64_t size = bytes.size();
  if (size < 8) {
    throw DataError(file, "truncated safetensors file: " + std::to_string(size) +
                              " bytes, fewer than the 8-byte header length");
  }
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);  // little-endian host (checked in tensor_store.cpp)
  if (header_len > kMaxHeaderSize) {
    throw DataError(file, "safetensors header length " + std::to_string(header_len) +
                              " exceeds the format's limit of 100000000 bytes (corrupt file?)");
  }
  if (header_len > size - 8) {
    throw DataError(file, "safetensors header length " + std::to_string(header_len) +
                              " runs past the end of the file (" + std::to_string(size) +
                              " bytes): truncated or corrupt");
  }
  const char* hp = reinterpret_cast<const char*>(bytes.data() + 8);
  nlohmann::json header;
  try {
    // The messages below dump() header values, which recurses once per nesting level: a hostile
    // header nested a million levels deep would overflow the stack. Real headers nest 3 levels.
    header = nlohmann::json::parse(hp, hp + header_len,
                                   [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
                                     if (depth > kMaxHeaderDepth) {
                                       throw DataError(file, "safetensors header nested deeper than " +
                                                                 std::to_string(kMaxHeaderDepth) +
                                                                 " levels: corrupt file");
                                     }
                                     return true;
                                   });
  } catch (const nlohmann::json::exception& e) {
    throw DataError(file, std::string("safetensors header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) throw DataError(file, "safetensors header is not a JSON object");

  const std::uint64_t buffer_begin = 8 + header_len;
  const std::uint64_t buffer_size = size - buffer_begin;
  std::vector<TensorInfo> tensors;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;  // [begin, end) per tensor
  tensors.reserve(header.size());
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string where = "tensor '" + name + "': ";
    if (!entry.is_object()) throw DataError(file, where + "header entry is not a JSON object");
    const auto dt = entry.find("dtype");
    const auto sh = entry.find("shape");
    const auto off = entry.find("data_offsets");
    if (dt == entry.end() || sh == entry.end() || off == entry.end()) {
      throw DataError(file, where + "header entry needs \"dtype\", \"shape\" and \"data_offsets\"");
    }
    if (!dt->is_string()) throw DataError(file, where + "\"dtype\" is not a string");
    const auto dtype = parse_dtype(dt->get<std::string>());
    if (!dtype) {
      throw DataError(file, where + "unknown dtype \"" + dt->get<std::string>() + "\"");
    }
    if (!sh->is_array()) throw DataError(file, where + "\"shape\" is not an array");
    TensorInfo t;
    t.name = name;
    t.dtype = *dtype;
    t.file = file;
    // Element count with overflow checks (a lying header must not wrap around).
    std::uint64_t count = 1;
    for (const auto& d : *sh) {
      const auto v = as_u64(d);
      if (!v || *v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        throw DataError(file, where + "shape " + sh->dump() + " has a dimension that is not a " +
                                  "non-negative integer");
      }
      t.shape.push_back(static_cast<std::int64_t>(*v));
      if (*v != 0 && count > std::numeric_limits<std::uint64_t>::max() / *v) {
        throw DataError(file, where + "shape " + sh->dump() + " overflows 64 bits");
      }
      count *= *v;
    }
    const std::uint64_t esize = dtype_size(t.dtype);
    if (count > std::numeric_limits<std::uint64_t>::max() / esize) {
      throw DataError(file, where + "shape " + sh->dump() + " overflows 64 bits");
    }
    const std::uint64_t nbytes = count * esize;
    if (!off->is_array() || off->size() != 2) {
      throw DataError(file, where + "\"data_offsets\" is not a [begin, end] pair");
    }
    const auto b = as_u64((*off)[0]);
    const auto e = as_u64((*off)[1]);
    if (!b || !e || *b > *e) {
      throw DataError(file, where + "\"data_offsets\" " + off->dump() +
                                " is not a pair of non-negative integers with begin <= end");
    }
    if (*e > buffer_size) {
      throw DataError(file, where + "data_offsets " + off->dump() + " run past the end of the " +
                                "file (the data buffer holds " + std::to_string(buffer_size) +
                                " bytes): truncated or corrupt");
    }
    if (*e - *b != nbytes) {
      throw DataError(file, where + "data_offsets " + off->dump() + " span " +
                                std::to_string(*e - *b) + " bytes but " +
                                std::string(dtype_name(t.dtype)) + " " + shape_string(t.shape) +
                                " needs " + std::to_string(nbytes));
    }
    t.bytes = bytes.subspan(static_cast<std::size_t>(buffer_begin + *b),
                            static_cast<std::size_t>(nbytes));
    ranges.emplace_back(*b, *e);
    tensors.push_back(std::move(t));
  }
  // No two tensors may share bytes (empty tensors share nothing).
  std::vector<std::size_t> order(tensors.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return ranges[a] < ranges[b]; });
  std::optional<std::size_t> prev;
  for (const std::size_t i : order) {
    if (ranges[i].first == ranges[i].second) continue;
    if (prev && ranges[i].first < ranges[*prev].second) {
      throw DataError(file, "tensor '" + tensors[i].name + "' overlaps tensor '" +
                                tensors[*prev].name + "' in the data buffer");
    }
    prev = i;
  }
  return tensors;
}

SafetensorsFile read_safetensors(const std::filesystem::path& path) {
  auto mapping = std::make_shared<const data::MappedFile>(path);
  SafetensorsFile f;
  f.tensors = parse_safetensors(mapping->bytes(), path.string());
  for (auto& t : f.tensors) t.file_backed = true;
  f.mapping = std::move(mapping);
  return f;
}

}  // namespace pythia::model

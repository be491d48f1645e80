// TensorStore: the single place model weights are read from disk.
//
// Opens a Hugging Face checkpoint folder in any of the layouts EleutherAI publishes Pythia in:
//   model.safetensors                     one safetensors file (memory-mapped, zero copy)
//   model.safetensors.index.json          sharded safetensors ("weight_map": name -> shard file)
//   pytorch_model.bin                     torch.save zip archive (torch >= 1.6), restricted unpickler
//   pytorch_model.bin.index.json          sharded pytorch_model-XXXXX-of-YYYYY.bin
// preferring safetensors when several are present (as transformers' from_pretrained does).
//
// Every tensor in the files is listed, including non-parameter buffers of old Pythia .bin files
// (attention.bias, attention.masked_bias, attention.rotary_emb.inv_freq); consumers pick the names
// they need. Tensors are stored row-major, little-endian, contiguous.
//
// Thread safety: immutable after open(); find/read_f32 may be called from any number of threads.
// Memory: tensors stay in the memory-mapped files; a mapped page counts in the resident set once
// read, until release_tensor_pages drops it (load_neox_weights does, tensor by tensor).
// Errors: DataError naming the file (and tensor) for anything missing, malformed or unsupported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pythia::model {

// Element types of safetensors ("F16", ...) and torch storages (HalfStorage, ...).
enum class DType { kF16, kBF16, kF32, kF64, kI64, kI32, kI16, kI8, kU8, kU16, kU32, kU64, kBool };

// Bytes per element.
std::size_t dtype_size(DType t);
// Safetensors spelling: "F16", "BF16", "F32", "F64", "I64", ..., "BOOL".
std::string_view dtype_name(DType t);
// Formats a shape as "[3072, 1024]" (used in error messages).
std::string shape_string(std::span<const std::int64_t> shape);
// Product of the dimensions; 1 for a scalar (empty shape).
std::int64_t element_count(std::span<const std::int64_t> shape);

struct TensorInfo {
  std::string name;                  // e.g. "gpt_neox.layers.0.attention.dense.weight"
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;   // empty for a scalar
  std::span<const std::byte> bytes;  // element_count(shape) * dtype_size(dtype) bytes, row-major
  std::string file;                  // the file it came from (for error messages)
  // True if `bytes` lie in a read-only memory map of `file` (safetensors, stored .bin entries):
  // release_tensor_pages may then drop them from the resident set.
  bool file_backed = false;
};

// Drops from this process's resident set the whole pages inside bytes [begin, end) of `t`
// (madvise MADV_DONTNEED): a loader that has packed part of a tensor calls it so that the mapped
// checkpoint does not stay resident next to the packed copy. The bytes stay valid: reading them
// again faults the pages back in from the file. No-op unless t.file_backed (on heap memory
// MADV_DONTNEED would zero the data). Thread-safe.
void release_tensor_pages(const TensorInfo& t, std::size_t begin, std::size_t end);
// The same on raw bytes. REQUIRES: `bytes` lie in a read-only file mapping (never heap memory).
void release_mapped_pages(std::span<const std::byte> bytes);

class TensorStore {
 public:
  // Opens a checkpoint folder (see the header comment). DataError if it holds none of the four
  // layouts, or if any file is malformed.
  static TensorStore open(const std::filesystem::path& dir);

  // The tensor called `name`, or nullptr if absent. The pointer lives as long as the store.
  const TensorInfo* find(std::string_view name) const;
  // Every tensor name, sorted.
  std::vector<std::string> names() const;

  // The tensor `name`, checked to have `expected_shape`: DataError naming file + tensor when it
  // is missing or has another shape (the same messages as read_f32).
  const TensorInfo& require(std::string_view name,
                            std::span<const std::int64_t> expected_shape) const;

  // The tensor converted to float32, row-major (F16, BF16 and F32 convert exactly).
  // DataError naming file + tensor when the tensor is missing, when its shape differs from
  // `expected_shape` ("expected [3072, 1024], found [1024, 3072]"), or its dtype is not one of
  // F16/BF16/F32.
  std::vector<float> read_f32(std::string_view name,
                              std::span<const std::int64_t> expected_shape) const;
  // Same, writing into `out` (REQUIRES out.size() == element_count(expected_shape)).
  void read_f32_into(std::string_view name, std::span<const std::int64_t> expected_shape,
                     std::span<float> out) const;

  // What was opened, e.g. "model.safetensors (F16)" or "pytorch_model.bin (F16, U8)".
  std::string description() const;
  const std::filesystem::path& dir() const { return dir_; }

  // Assembles a store from already-parsed tensors. `owners` keep the tensors' bytes alive.
  // Duplicate names -> DataError naming both files. Used by open() and by tests.
  static TensorStore from_tensors(std::filesystem::path dir, std::string source,
                                  std::vector<TensorInfo> tensors,
                                  std::vector<std::shared_ptr<const void>> owners);

 private:
  std::filesystem::path dir_;
  std::string source_;  // "model.safetensors", "pytorch_model.bin.index.json (3 shards)", ...
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::size_t, std::less<>> index_;
  std::vector<std::shared_ptr<const void>> owners_;
};

// The weight files TensorStore::open(dir) reads, in file-name order: model.safetensors or
// pytorch_model.bin, or the shard files a *.index.json names (not the index itself). Same
// preference order and DataErrors as open(); reads only the index, never the weights. Used for the
// checkpoint's content hash (results/model_identity.h).
std::vector<std::filesystem::path> checkpoint_weight_files(const std::filesystem::path& dir);

// Converts `count` little-endian elements of `src` (type `dtype`, F16/BF16/F32) to float32.
// Exact (IEEE half and bfloat16 are subsets of float32), including subnormals, inf and NaN.
// Returns false for any other dtype.
// On x86-64 CPUs with F16C, F16 uses vcvtph2ps (chosen at run time); elsewhere, and for the last
// few elements, a 65536-entry table. Both give identical values (signalling NaNs aside).
bool convert_to_f32(DType dtype, const std::byte* src, std::size_t count, float* dst);
// The portable F16 path alone (exposed so tests can check it on F16C machines too).
void convert_f16_to_f32_portable(const std::byte* src, std::size_t count, float* dst);

}  // namespace pythia::model

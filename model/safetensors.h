// Reader for the safetensors format (huggingface/safetensors, format as documented in its
// README, v0.4): an 8-byte little-endian u64 N, then N bytes of JSON header
//   {"__metadata__": {str: str}, "<name>": {"dtype": "F16", "shape": [..], "data_offsets": [b, e]}, ...}
// then the byte buffer; offsets are relative to the start of the buffer (byte 8 + N).
//
// Validation (each failure is a DataError naming the file and, where it applies, the tensor):
// truncated file, header length past EOF or absurdly large, header not a JSON object, unknown
// dtype, negative / non-integer shape, data_offsets not [begin <= end] within the buffer,
// end - begin != element count * dtype size, overlapping tensors. `__metadata__` is ignored.
// The file is memory-mapped; tensors point into the mapping (zero copy).
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "data/mapped_file.h"
#include "model/tensor_store.h"

namespace pythia::model {

struct SafetensorsFile {
  std::shared_ptr<const data::MappedFile> mapping;  // keeps TensorInfo::bytes valid
  std::vector<TensorInfo> tensors;                  // in header order
};

// Maps and validates `path`. Throws DataError.
SafetensorsFile read_safetensors(const std::filesystem::path& path);

// Parses a safetensors image already in memory (`display_name` is used in messages). The
// returned tensors point into `bytes`.
std::vector<TensorInfo> parse_safetensors(std::span<const std::byte> bytes,
                                          const std::string& display_name);

}  // namespace pythia::model

// Reader for pytorch_model.bin in torch's zip serialization format (torch >= 1.6 `torch.save`,
// torch/serialization.py `_save`): a zip archive with one top-level folder <prefix>/ holding
//   <prefix>/data.pkl      the pickled state_dict (protocol 2), tensors as persistent ids
//   <prefix>/data/<key>    the raw bytes of each storage (little-endian)
//   <prefix>/version       format version; <prefix>/byteorder (torch >= 2.1, "little")
// The pickle is read by a restricted unpickler (model/restricted_unpickler.h), the equivalent of
// torch.load(weights_only=True): only the globals a state_dict needs are accepted; anything else
// (os.system, builtins.eval, ...) is refused before anything is built. Nothing is executed.
//
// The archive is opened and validated with libzip (zip64 capable). Storages stored uncompressed
// (torch's writer never compresses) are used in place in a memory map of the file, after a CRC-32
// check; compressed ones are inflated by libzip into memory. Tensors are views into the storage
// bytes (tensors sharing a storage share them). Only contiguous (row-major) tensors are accepted.
// The legacy pre-1.6 tar/pickle format is refused with a DataError that says so.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "model/tensor_store.h"

namespace pythia::model {

struct TorchCheckpoint {
  std::shared_ptr<const void> owner;  // keeps TensorInfo::bytes valid
  std::vector<TensorInfo> tensors;    // in pickle order
  int mapped_storages = 0;            // storages used in place in the memory map
  int copied_storages = 0;            // storages inflated into memory (compressed entries)
};

// Reads and validates `path`. Throws DataError naming the file (and tensor).
TorchCheckpoint read_torch_checkpoint(const std::filesystem::path& path);

}  // namespace pythia::model

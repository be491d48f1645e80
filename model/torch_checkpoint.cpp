#include "model/torch_checkpoint.h"

#include "data/error.h"

namespace pythia::model {

// First landing: safetensors only. The zip reader follows in the next commit.
TorchCheckpoint read_torch_checkpoint(const std::filesystem::path& path) {
  throw DataError(path.string(), "pytorch_model.bin is not supported yet (use model.safetensors)");
}

}  // namespace pythia::model

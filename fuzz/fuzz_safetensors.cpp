// safetensors: the 8-byte header length, the JSON header and the tensor table
// (model/safetensors.h parse_safetensors, which read_safetensors runs on the memory map).
// Every accepted tensor's bytes are read back (ASan checks they lie inside the input) and
// converted to float32 when the dtype allows, then the tensors go through TensorStore's
// duplicate-name check.
#include <cstdlib>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "model/safetensors.h"
#include "model/tensor_store.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pythia;
  fuzz::expect_clean([&] {
    auto tensors = model::parse_safetensors(fuzz::as_bytes(data, size), "fuzz.safetensors");
    for (const auto& t : tensors) {
      const auto n = static_cast<std::size_t>(model::element_count(t.shape));
      if (t.bytes.size() != n * model::dtype_size(t.dtype)) std::abort();  // contract
      (void)fuzz::touch(t.bytes);
      std::vector<float> f32(n);
      (void)model::convert_to_f32(t.dtype, t.bytes.data(), n, f32.data());
    }
    (void)model::TensorStore::from_tensors("fuzz", "fuzz.safetensors", std::move(tensors), {});
  });
  return 0;
}

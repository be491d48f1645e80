// The restricted unpickler of torch state_dicts (model/restricted_unpickler.h) on raw data.pkl
// bytes: every opcode, the allowlist of globals, persistent ids, memo, marks.
#include <cstdlib>

#include "fuzz/fuzz_util.h"
#include "model/restricted_unpickler.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pythia;
  fuzz::expect_clean([&] {
    const auto tensors = model::unpickle_state_dict(fuzz::as_bytes(data, size), "fuzz/data.pkl");
    for (const auto& t : tensors) {
      if (!t.storage || t.shape.size() != t.stride.size()) std::abort();  // contract
    }
  });
  return 0;
}

// config.json of a GPT-NeoX checkpoint (model/neox_config.h read_neox_config), from a file.
#include "fuzz/fuzz_util.h"
#include "model/neox_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pythia;
  const auto path = fuzz::scratch_dir() / "config.json";
  fuzz::write_file(path, fuzz::as_text(data, size));
  fuzz::expect_clean([&] {
    const model::NeoxConfig c = model::read_neox_config(path);
    // What the loader derives from it must be sane for any accepted config.
    if (c.head_dim() <= 0 || c.rotary_dim() <= 0 || c.rotary_dim() > c.head_dim()) __builtin_trap();
  });
  return 0;
}

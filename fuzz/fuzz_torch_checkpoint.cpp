// pytorch_model.bin (model/torch_checkpoint.h read_torch_checkpoint): libzip container, the zip
// directory reader, the restricted unpickler and the storage / tensor bounds checks, from a file.
//
// Input layout (first byte = mode):
//   mode & 1: the rest of the input is the file itself (raw zip bytes);
//   otherwise the rest is split at "|ZE|" into data.pkl and the storages "0", "1", ... and a
//   zip is written with libzip, as torch does: <prefix>/data.pkl, <prefix>/data/<k>,
//   <prefix>/version; mode & 2: entries deflated (the copy path) instead of stored (the
//   memory-mapped path); mode & 4: with <prefix>/byteorder "little"; mode & 8: prefix
//   "pytorch_model" instead of "archive". This lets the fuzzer reach the pickle-to-storage logic
//   without having to forge zip CRCs.
#include <zip.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "model/torch_checkpoint.h"

namespace {

void write_zip(const std::filesystem::path& path, const std::vector<std::pair<std::string, std::string>>& entries,
               bool deflate) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (z == nullptr) std::abort();
  for (const auto& [name, bytes] : entries) {
    zip_source_t* src = zip_source_buffer(z, bytes.data(), bytes.size(), 0);
    if (src == nullptr) std::abort();
    const zip_int64_t idx = zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE);
    if (idx < 0) {
      zip_source_free(src);
      continue;  // e.g. a name libzip refuses: leave the entry out
    }
    zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE,
                             1);
  }
  if (zip_close(z) != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pythia;
  if (size == 0) return 0;
  const unsigned mode = data[0];
  const std::string_view rest = fuzz::as_text(data + 1, size - 1);
  const auto path = fuzz::scratch_dir() / "pytorch_model.bin";
  if (mode & 1) {
    fuzz::write_file(path, rest);
  } else {
    const std::string prefix = (mode & 8) ? "pytorch_model" : "archive";
    const auto parts = fuzz::split(rest, "|ZE|");
    std::vector<std::pair<std::string, std::string>> entries;
    entries.emplace_back(prefix + "/data.pkl", std::string(parts[0]));
    for (std::size_t k = 1; k < parts.size(); ++k) {
      entries.emplace_back(prefix + "/data/" + std::to_string(k - 1), std::string(parts[k]));
    }
    entries.emplace_back(prefix + "/version", "3\n");
    if (mode & 4) entries.emplace_back(prefix + "/byteorder", "little");
    write_zip(path, entries, (mode & 2) != 0);
  }
  fuzz::expect_clean([&] {
    const auto ckpt = model::read_torch_checkpoint(path);
    for (const auto& t : ckpt.tensors) {
      const auto n = static_cast<std::size_t>(model::element_count(t.shape));
      if (t.bytes.size() != n * model::dtype_size(t.dtype)) std::abort();  // contract
      (void)fuzz::touch(t.bytes);
    }
  });
  return 0;
}

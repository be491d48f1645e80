// pytorch_model.bin reader (format: see the header; writer: torch/serialization.py `_save` and
// caffe2/serialize/inline_container.cc PyTorchStreamWriter, torch 1.6 - 2.x).
#include "model/torch_checkpoint.h"

#include <zip.h>
#include <tbb/parallel_for.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "data/error.h"
#include "data/mapped_file.h"
#include "model/restricted_unpickler.h"
#include "model/zip_directory.h"

namespace pythia::model {
namespace {

// data.pkl of a state_dict is small (a few hundred bytes per tensor); refuse absurd sizes.
constexpr std::uint64_t kMaxPickleBytes = 1ULL << 30;

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

// Owner of every TensorInfo::bytes span: the archive's memory map (stored entries are used in
// place) and copies of any compressed entries.
struct Buffers {
  std::unique_ptr<data::MappedFile> mapping;
  std::vector<std::unique_ptr<std::byte[]>> blocks;
};

// CRC-32 of a mapped entry: 64 MiB chunks in parallel (TBB), combined in order with
// crc32_combine64, so the value is the plain CRC whatever the thread count. Each chunk's pages
// are dropped from the resident set once checked (release_mapped_pages), so checking a
// multi-GB checkpoint does not make it resident; the loader reads them again while packing.
std::uint32_t crc_of(std::span<const std::byte> bytes) {
  constexpr std::size_t kChunk = std::size_t{64} << 20;
  const std::size_t chunks = (bytes.size() + kChunk - 1) / kChunk;
  std::vector<uLong> crcs(chunks);
  tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
    const std::size_t off = c * kChunk;
    const std::size_t n = std::min(kChunk, bytes.size() - off);
    crcs[c] = crc32_z(crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data() + off), n);
    release_mapped_pages(bytes.subspan(off, n));
  });
  uLong crc = crc32_z(0L, Z_NULL, 0);
  for (std::size_t c = 0; c < chunks; ++c) {
    const std::size_t n = std::min(kChunk, bytes.size() - c * kChunk);
    crc = crc32_combine64(crc, crcs[c], static_cast<z_off64_t>(n));
  }
  return static_cast<std::uint32_t>(crc);
}

std::string zip_error_text(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string s = zip_error_strerror(&e);
  zip_error_fini(&e);
  return s;
}

// True if the file starts like a legacy (torch < 1.6) torch.save file: a bare pickle stream.
bool looks_like_legacy_torch(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char head[2] = {0, 0};
  in.read(head, 2);
  return in && static_cast<unsigned char>(head[0]) == 0x80 && head[1] >= 2 && head[1] <= 5;
}

// Reads entry `index` (whose uncompressed size is `size`) completely into `dst`; libzip checks the
// CRC when the whole entry has been read.
void read_entry(zip_t* z, zip_uint64_t index, std::uint64_t size, std::byte* dst,
                const std::string& file, const std::string& entry) {
  zip_file_t* f = zip_fopen_index(z, index, 0);
  if (f == nullptr) {
    throw DataError(file, "cannot open archive entry " + entry + ": " + zip_strerror(z));
  }
  std::uint64_t done = 0;
  while (done < size) {
    const zip_int64_t n = zip_fread(f, dst + done, size - done);
    if (n < 0) {
      const std::string err = zip_file_strerror(f);
      zip_fclose(f);
      throw DataError(file, "cannot read archive entry " + entry + ": " + err);
    }
    if (n == 0) break;
    done += static_cast<std::uint64_t>(n);
  }
  // One more read reaches EOF, where libzip verifies the CRC.
  char extra;
  const zip_int64_t tail = zip_fread(f, &extra, 1);
  const std::string err = tail < 0 ? zip_file_strerror(f) : "";
  zip_fclose(f);
  if (done != size) {
    throw DataError(file, "archive entry " + entry + " is truncated: read " +
                              std::to_string(done) + " of " + std::to_string(size) + " bytes");
  }
  if (tail < 0) throw DataError(file, "archive entry " + entry + " is corrupt: " + err);
  if (tail > 0) throw DataError(file, "archive entry " + entry + " is longer than recorded");
}

// Row-major check. REQUIRES: the element count fits the storage (no overflow below).
bool is_contiguous(const PickledTensor& t) {
  for (const auto d : t.shape) {
    if (d == 0) return true;  // empty tensor: no element is ever addressed
  }
  std::int64_t expected = 1;
  for (std::size_t k = t.shape.size(); k-- > 0;) {
    if (t.shape[k] != 1 && t.stride[k] != expected) return false;
    expected *= t.shape[k];
  }
  return true;
}

}  // namespace

TorchCheckpoint read_torch_checkpoint(const std::filesystem::path& path) {
  const std::string file = path.string();
  int err = 0;
  ZipPtr zip(zip_open(file.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err));
  if (!zip) {
    if (err == ZIP_ER_NOZIP && looks_like_legacy_torch(path)) {
      throw DataError(file, "legacy (torch < 1.6, non-zip) torch.save format is not supported; "
                            "convert the checkpoint to safetensors or re-save it with torch >= 1.6");
    }
    throw DataError(file, "not a readable zip-format torch checkpoint: " + zip_error_text(err));
  }
  const zip_int64_t n_entries = zip_get_num_entries(zip.get(), 0);
  // Locate <prefix>/data.pkl (the prefix is the archive name torch chose: "archive" for
  // torch >= 1.13 defaults, or the file stem, e.g. "pytorch_model").
  std::string prefix;
  zip_int64_t pkl_index = -1;
  for (zip_int64_t i = 0; i < n_entries; ++i) {
    const char* name = zip_get_name(zip.get(), static_cast<zip_uint64_t>(i), 0);
    if (name == nullptr) continue;
    const std::string s = name;
    const auto slash = s.find('/');
    if (slash != std::string::npos && s.substr(slash) == "/data.pkl") {
      if (pkl_index >= 0) throw DataError(file, "archive holds more than one data.pkl");
      pkl_index = i;
      prefix = s.substr(0, slash);
    }
  }
  if (pkl_index < 0) {
    throw DataError(file, "zip archive has no <name>/data.pkl: not a torch.save checkpoint");
  }
  const auto entry_stat = [&](zip_int64_t index) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip.get(), static_cast<zip_uint64_t>(index), 0, &st) != 0 ||
        !(st.valid & ZIP_STAT_SIZE)) {
      throw DataError(file, std::string("cannot stat archive entry: ") + zip_strerror(zip.get()));
    }
    return st;
  };
  const auto entry_size = [&](zip_int64_t index) {
    return static_cast<std::uint64_t>(entry_stat(index).size);
  };
  // torch >= 2.1 records the byte order of the storages.
  if (const zip_int64_t bo = zip_name_locate(zip.get(), (prefix + "/byteorder").c_str(), 0);
      bo >= 0) {
    const auto size = entry_size(bo);
    std::string order(static_cast<std::size_t>(std::min<std::uint64_t>(size, 16)), '\0');
    if (size > 16) throw DataError(file, prefix + "/byteorder is not \"little\" or \"big\"");
    read_entry(zip.get(), static_cast<zip_uint64_t>(bo), size,
               reinterpret_cast<std::byte*>(order.data()), file, prefix + "/byteorder");
    if (order != "little") {
      throw DataError(file, "storages are stored " + order + "-endian; only little-endian "
                            "checkpoints are supported");
    }
  }

  const std::uint64_t pkl_size = entry_size(pkl_index);
  if (pkl_size > kMaxPickleBytes) {
    throw DataError(file, prefix + "/data.pkl is " + std::to_string(pkl_size) +
                              " bytes, too large for a state_dict");
  }
  std::vector<std::byte> pkl(static_cast<std::size_t>(pkl_size));
  read_entry(zip.get(), static_cast<zip_uint64_t>(pkl_index), pkl_size, pkl.data(), file,
             prefix + "/data.pkl");
  const std::vector<PickledTensor> pickled = unpickle_state_dict(pkl, file);

  // Stored (uncompressed) entries, which is how torch writes storages, are used in place in a
  // memory map; anything else is read through libzip into memory.
  auto buffers = std::make_shared<Buffers>();
  buffers->mapping = std::make_unique<data::MappedFile>(path);
  const auto directory = read_zip_directory(buffers->mapping->bytes());
  std::map<std::string, std::span<const std::byte>> storage_bytes;
  std::set<std::string> mapped_keys;  // storages used in place in the mapping
  int mapped = 0, copied = 0;
  for (const auto& t : pickled) {
    const auto& st = *t.storage;
    if (storage_bytes.contains(st.key)) continue;
    const std::string entry = prefix + "/data/" + st.key;
    const zip_int64_t index = zip_name_locate(zip.get(), entry.c_str(), 0);
    if (index < 0) {
      throw DataError(file, "tensor '" + t.name + "': storage entry " + entry +
                                " is missing from the archive");
    }
    const std::uint64_t esize = dtype_size(st.dtype);
    const auto numel = static_cast<std::uint64_t>(st.numel);
    if (numel > (std::uint64_t{1} << 62) / esize) {
      throw DataError(file, "tensor '" + t.name + "': storage element count " +
                                std::to_string(numel) + " is absurd");
    }
    const zip_stat_t stat = entry_stat(index);
    const std::uint64_t size = stat.size;
    if (size != numel * esize) {
      throw DataError(file, "tensor '" + t.name + "': storage " + entry + " holds " +
                                std::to_string(size) + " bytes but " + std::to_string(numel) +
                                " elements of " + std::string(dtype_name(st.dtype)) + " need " +
                                std::to_string(numel * esize));
    }
    if (directory && (stat.valid & ZIP_STAT_COMP_METHOD) && stat.comp_method == ZIP_CM_STORE) {
      const auto loc = directory->find(entry);
      if (loc != directory->end() && loc->second.method == 0 && loc->second.size == size &&
          loc->second.compressed_size == size) {
        const auto bytes = buffers->mapping->bytes().subspan(
            static_cast<std::size_t>(loc->second.data_offset), static_cast<std::size_t>(size));
        if (crc_of(bytes) != loc->second.crc32) {
          throw DataError(file, "archive entry " + entry + " is corrupt: CRC error");
        }
        storage_bytes.emplace(st.key, bytes);
        mapped_keys.insert(st.key);
        ++mapped;
        continue;
      }
    }
    auto block = std::make_unique_for_overwrite<std::byte[]>(static_cast<std::size_t>(size));
    read_entry(zip.get(), static_cast<zip_uint64_t>(index), size, block.get(), file, entry);
    storage_bytes.emplace(st.key, std::span<const std::byte>(block.get(), static_cast<std::size_t>(size)));
    buffers->blocks.push_back(std::move(block));
    ++copied;
  }

  TorchCheckpoint out;
  out.tensors.reserve(pickled.size());
  for (const auto& t : pickled) {
    const auto& st = *t.storage;
    // Element count without overflow (a hostile shape must not wrap around): any count above
    // the storage's element count (<= 2^62) is refused below anyway.
    std::uint64_t count = 1;
    bool too_big = false;
    for (const auto d : t.shape) {
      if (d < 0) {
        throw DataError(file, "tensor '" + t.name + "' has a negative dimension in " +
                                  shape_string(t.shape));
      }
      if (__builtin_mul_overflow(count, static_cast<std::uint64_t>(d), &count)) too_big = true;
    }
    if (count == 0) too_big = false;  // a zero dimension makes the tensor empty
    if (t.storage_offset < 0 || too_big ||
        (count > 0 && (count > static_cast<std::uint64_t>(st.numel) ||
                       static_cast<std::uint64_t>(t.storage_offset) >
                           static_cast<std::uint64_t>(st.numel) - count))) {
      throw DataError(file, "tensor '" + t.name + "' (offset " +
                                std::to_string(t.storage_offset) + ", shape " +
                                shape_string(t.shape) + ") reaches past the end of its storage "
                                "of " + std::to_string(st.numel) + " elements");
    }
    if (!is_contiguous(t)) {
      throw DataError(file, "tensor '" + t.name + "' is not contiguous (shape " +
                                shape_string(t.shape) + ", stride " + shape_string(t.stride) +
                                "); only row-major tensors are supported");
    }
    const std::size_t esize = dtype_size(st.dtype);
    TensorInfo info;
    info.name = t.name;
    info.dtype = st.dtype;
    info.shape = t.shape;
    info.file = file;
    info.file_backed = mapped_keys.contains(st.key);
    if (count > 0) {
      info.bytes = storage_bytes.at(st.key).subspan(
          static_cast<std::size_t>(t.storage_offset) * esize, static_cast<std::size_t>(count) * esize);
    }
    out.tensors.push_back(std::move(info));
  }
  out.owner = std::move(buffers);
  out.mapped_storages = mapped;
  out.copied_storages = copied;
  return out;
}

}  // namespace pythia::model

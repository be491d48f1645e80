#include "data/indexed_dataset.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <regex>

#include "data/error.h"

namespace pythia::data {
namespace {

// A read-only memory map of a whole file (empty files map to nothing).
class Map {
 public:
  explicit Map(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw DataError(path.string(), std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int e = errno;
      ::close(fd);
      throw DataError(path.string(), std::string("cannot stat: ") + std::strerror(e));
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
      if (p == MAP_FAILED) {
        const int e = errno;
        ::close(fd);
        throw DataError(path.string(), std::string("cannot mmap: ") + std::strerror(e));
      }
      data_ = static_cast<const unsigned char*>(p);
    }
    ::close(fd);
  }
  ~Map() {
    if (data_ != nullptr) ::munmap(const_cast<unsigned char*>(data_), size_);
  }
  Map(const Map&) = delete;
  Map& operator=(const Map&) = delete;
  const unsigned char* data() const { return data_; }
  std::uint64_t size() const { return size_; }

 private:
  const unsigned char* data_ = nullptr;
  std::uint64_t size_ = 0;
};

template <typename T>
T load_le(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // host is little-endian (x86-64 / aarch64), as the files
  return v;
}

constexpr unsigned char kMagic[9] = {'M', 'M', 'I', 'D', 'I', 'D', 'X', 0, 0};
constexpr unsigned char kLegacyMagic[8] = {'T', 'N', 'T', 'I', 'D', 'X', 0, 0};
constexpr std::uint64_t kHeaderBytes = 34;

int itemsize_of(int code, const std::string& file) {
  switch (code) {
    case 1: case 2: return 1;  // uint8, int8
    case 3: case 8: return 2;  // int16, uint16
    case 4: return 4;          // int32
    case 5: throw DataError(file, "dtype code 5 (int64) token ids are not supported");
    case 6: case 7:
      throw DataError(file, "dtype code " + std::to_string(code) +
                                " is a float type; token files must be integer (8 = uint16)");
    default: throw DataError(file, "unknown dtype code " + std::to_string(code));
  }
}

}  // namespace

struct IndexedDataset::Maps {
  std::unique_ptr<Map> idx;
  std::vector<std::unique_ptr<Map>> bins;
  std::uint64_t shard_bytes = 0;  // size of every shard but the last (0: one file)
};

std::string strip_dataset_suffix(const std::string& path) {
  static const std::regex shard_re(R"(^(.*)-[0-9]{5}-of-[0-9]{5}\.bin$)");
  std::smatch m;
  if (std::regex_match(path, m, shard_re)) return m[1].str();
  for (const char* ext : {".idx", ".bin"}) {
    const std::string e = ext;
    if (path.size() > e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0) {
      return path.substr(0, path.size() - e.size());
    }
  }
  return path;
}

IndexedDataset::IndexedDataset(const std::string& prefix_in) : maps_(std::make_unique<Maps>()) {
  const std::string prefix = strip_dataset_suffix(prefix_in);
  idx_path_ = prefix + ".idx";
  const std::string idx = idx_path_.string();
  if (!std::filesystem::exists(idx_path_)) throw DataError(idx, "index file not found");
  maps_->idx = std::make_unique<Map>(idx_path_);
  const unsigned char* p = maps_->idx->data();
  const std::uint64_t idx_size = maps_->idx->size();
  if (idx_size >= 8 && std::memcmp(p, kLegacyMagic, 8) == 0) {
    throw DataError(idx, "legacy IndexedDataset magic \"TNTIDX\" (non-mmap Megatron format); only "
                         "MMapIndexedDataset (\"MMIDIDX\") files are supported");
  }
  if (idx_size < kHeaderBytes) {
    throw DataError(idx, "file has " + std::to_string(idx_size) +
                             " bytes, shorter than the 34-byte MMIDIDX header");
  }
  if (std::memcmp(p, kMagic, 9) != 0) {
    throw DataError(idx, "bad magic: not a Megatron MMapIndexedDataset index (expected \"MMIDIDX\\0\\0\")");
  }
  const auto version = load_le<std::uint64_t>(p + 9);
  if (version != 1) throw DataError(idx, "unsupported version " + std::to_string(version) + " (expected 1)");
  dtype_code_ = p[17];
  itemsize_ = itemsize_of(dtype_code_, idx);
  n_items_ = load_le<std::uint64_t>(p + 18);
  n_docs_ = load_le<std::uint64_t>(p + 26);
  if (n_items_ == 0) throw DataError(idx, "N (item count) is 0");
  if (n_docs_ == 0) throw DataError(idx, "D (doc_idx length) is 0");
  // 34 + 12N + 8D without overflow: N, D < 2^59 keeps every term below 2^63.
  constexpr std::uint64_t kLimit = std::uint64_t{1} << 59;
  if (n_items_ >= kLimit || n_docs_ >= kLimit ||
      kHeaderBytes + 12 * n_items_ + 8 * n_docs_ != idx_size) {
    throw DataError(idx, "file size " + std::to_string(idx_size) + " does not match the header (N=" +
                             std::to_string(n_items_) + ", D=" + std::to_string(n_docs_) +
                             " needs 34 + 12N + 8D bytes): truncated or corrupt");
  }

  // .bin: one file, or byte shards PREFIX-00000-of-000KK.bin .. -000KK-of-000KK.bin.
  const std::filesystem::path bin = prefix + ".bin";
  if (std::filesystem::exists(bin)) {
    bin_paths_.push_back(bin);
  } else {
    const std::filesystem::path first_dir = std::filesystem::path(prefix).parent_path();
    const std::string stem = std::filesystem::path(prefix).filename().string();
    const std::regex re("^" + std::regex_replace(stem, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                        R"(-00000-of-([0-9]{5})\.bin$)");
    int last = -1;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(
             first_dir.empty() ? std::filesystem::path(".") : first_dir, ec)) {
      std::smatch m;
      const std::string name = e.path().filename().string();
      if (std::regex_match(name, m, re)) last = std::stoi(m[1].str());
    }
    if (last < 0) throw DataError(bin.string(), "data file not found (nor shards " + stem + "-00000-of-NNNNN.bin)");
    char buf[32];
    for (int k = 0; k <= last; ++k) {
      std::snprintf(buf, sizeof buf, "-%05d-of-%05d.bin", k, last);
      const std::filesystem::path s = prefix + buf;
      if (!std::filesystem::exists(s)) throw DataError(s.string(), "shard missing");
      bin_paths_.push_back(s);
    }
  }
  for (const auto& b : bin_paths_) maps_->bins.push_back(std::make_unique<Map>(b));
  for (std::size_t k = 0; k < maps_->bins.size(); ++k) {
    const std::uint64_t s = maps_->bins[k]->size();
    if (k == 0) maps_->shard_bytes = s;
    if (k + 1 < maps_->bins.size() && s != maps_->shard_bytes) {
      throw DataError(bin_paths_[k].string(), "shard size " + std::to_string(s) +
                                                  " differs from shard 0's " + std::to_string(maps_->shard_bytes));
    }
    if (maps_->bins.size() > 1 && k + 1 == maps_->bins.size() && s > maps_->shard_bytes) {
      throw DataError(bin_paths_[k].string(), "last shard is larger than shard 0");
    }
    bin_bytes_ += s;
  }
  if (maps_->bins.size() > 1 && maps_->shard_bytes == 0) {
    throw DataError(bin_paths_[0].string(), "shard 0 is empty");
  }
}

IndexedDataset::~IndexedDataset() = default;
IndexedDataset::IndexedDataset(IndexedDataset&&) noexcept = default;
IndexedDataset& IndexedDataset::operator=(IndexedDataset&&) noexcept = default;

std::int32_t IndexedDataset::item_size(std::uint64_t i) const {
  return load_le<std::int32_t>(maps_->idx->data() + kHeaderBytes + 4 * i);
}

std::uint64_t IndexedDataset::pointer(std::uint64_t i) const {
  const auto v = load_le<std::int64_t>(maps_->idx->data() + kHeaderBytes + 4 * n_items_ + 8 * i);
  if (v < 0) {
    throw DataError(idx_path_.string(), "item " + std::to_string(i) + " has a negative byte pointer");
  }
  return static_cast<std::uint64_t>(v);
}

void IndexedDataset::read_tokens(std::uint64_t i, std::span<std::int32_t> out) const {
  const std::string idx = idx_path_.string();
  if (i >= n_items_) {
    throw DataError(idx, "item " + std::to_string(i) + " is past the end (N = " + std::to_string(n_items_) + ")");
  }
  const std::int32_t n = item_size(i);
  if (n < 0) throw DataError(idx, "item " + std::to_string(i) + " has a negative size");
  if (static_cast<std::uint64_t>(n) < out.size()) {
    throw DataError(idx, "item " + std::to_string(i) + " has " + std::to_string(n) + " tokens, fewer than the " +
                             std::to_string(out.size()) + " needed");
  }
  const std::uint64_t start = pointer(i);
  const std::uint64_t item_end_needed = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(itemsize_);
  if (start > bin_bytes_ || bin_bytes_ - start < item_end_needed) {
    throw DataError(bin_paths_.front().string(),
                    "item " + std::to_string(i) + " (byte " + std::to_string(start) + ", " + std::to_string(n) +
                        " tokens) lies beyond the end of the data (" + std::to_string(bin_bytes_) +
                        " bytes): .idx does not match .bin");
  }
  // Gather the bytes, possibly across shards.
  const std::uint64_t need = out.size() * static_cast<std::uint64_t>(itemsize_);
  std::vector<unsigned char> tmp;
  const unsigned char* src = nullptr;
  if (maps_->bins.size() == 1) {
    src = maps_->bins[0]->data() + start;
  } else {
    tmp.resize(need);
    std::uint64_t o = start, done = 0;
    while (done < need) {
      const std::uint64_t k = o / maps_->shard_bytes, off = o % maps_->shard_bytes;
      const Map& m = *maps_->bins.at(k);
      const std::uint64_t take = std::min(need - done, m.size() - off);
      std::memcpy(tmp.data() + done, m.data() + off, take);
      done += take;
      o += take;
    }
    src = tmp.data();
  }
  for (std::size_t t = 0; t < out.size(); ++t) {
    const unsigned char* q = src + t * static_cast<std::size_t>(itemsize_);
    switch (dtype_code_) {
      case 1: out[t] = q[0]; break;
      case 2: out[t] = static_cast<std::int8_t>(q[0]); break;
      case 3: out[t] = load_le<std::int16_t>(q); break;
      case 8: out[t] = load_le<std::uint16_t>(q); break;
      default: out[t] = load_le<std::int32_t>(q); break;
    }
  }
}

std::vector<std::int32_t> IndexedDataset::row(std::uint64_t i) const {
  if (i >= n_items_) {
    throw DataError(idx_path_.string(),
                    "item " + std::to_string(i) + " is past the end (N = " + std::to_string(n_items_) + ")");
  }
  const std::int32_t n = item_size(i);
  if (n < 0) throw DataError(idx_path_.string(), "item " + std::to_string(i) + " has a negative size");
  // Check the item against the .bin before allocating: a hostile .idx may claim 2^31 - 1 tokens
  // (an 8 GB buffer) for an item of a small file. read_tokens repeats the check.
  const std::uint64_t start = pointer(i);
  const std::uint64_t bytes = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(itemsize_);
  if (start > bin_bytes_ || bin_bytes_ - start < bytes) {
    throw DataError(bin_paths_.front().string(),
                    "item " + std::to_string(i) + " (byte " + std::to_string(start) + ", " + std::to_string(n) +
                        " tokens) lies beyond the end of the data (" + std::to_string(bin_bytes_) +
                        " bytes): .idx does not match .bin");
  }
  std::vector<std::int32_t> out(static_cast<std::size_t>(n));
  read_tokens(i, out);
  return out;
}

void IndexedDataset::check_preshuffled(std::uint64_t begin, std::uint64_t end, int row_tokens) const {
  const std::string idx = idx_path_.string();
  if (end > n_items_) {
    throw DataError(idx, "rows [" + std::to_string(begin) + ", " + std::to_string(end) +
                             ") reach past the end of the dataset (N = " + std::to_string(n_items_) + ")");
  }
  const std::uint64_t stride = static_cast<std::uint64_t>(row_tokens) * static_cast<std::uint64_t>(itemsize_);
  for (std::uint64_t i = begin; i < end; ++i) {
    const std::int32_t n = item_size(i);
    if (n != row_tokens) {
      throw DataError(idx, "not the preshuffled layout: item " + std::to_string(i) + " has " + std::to_string(n) +
                               " tokens (every row must have " + std::to_string(row_tokens) + ")");
    }
    const std::uint64_t ptr = pointer(i);
    if (ptr != stride * i) {
      throw DataError(idx, "not the preshuffled layout: item " + std::to_string(i) + " starts at byte " +
                               std::to_string(ptr) + ", expected " + std::to_string(stride * i));
    }
  }
  if (end > begin && stride * end > bin_bytes_) {
    throw DataError(bin_paths_.front().string(),
                    "has " + std::to_string(bin_bytes_) + " bytes but rows up to " + std::to_string(end) +
                        " need " + std::to_string(stride * end) + ": .idx does not match .bin");
  }
}

}  // namespace pythia::data

#include "harness/memorization_output.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "data/error.h"

namespace pythia::harness {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

void fsync_dir(const std::filesystem::path& dir) {
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::filesystem::path temp_name(const std::filesystem::path& path) {
  return path.parent_path() / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()));
}

std::string shortest(float v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

nlohmann::ordered_json index_array(const std::vector<std::uint64_t>& v) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (auto i : v) a.push_back(i);
  return a;
}

}  // namespace

const char* eod_policy_name(EodPolicy p) { return p == EodPolicy::kReference ? "reference" : "allow"; }

void write_file_atomic(const std::filesystem::path& path, std::string_view content) {
  const auto tmp = temp_name(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw DataError(path.string(), std::string("cannot create: ") + std::strerror(errno));
  const char* p = content.data();
  std::size_t n = content.size();
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw DataError(path.string(), std::string("write: ") + std::strerror(e));
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw DataError(path.string(), std::string("fsync/close: ") + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw DataError(path.string(), std::string("rename: ") + std::strerror(e));
  }
  fsync_dir(path.parent_path());
}

struct AtomicGzipWriter::State {
  z_stream z{};
  int fd = -1;
};

AtomicGzipWriter::AtomicGzipWriter(std::filesystem::path path)
    : path_(std::move(path)), tmp_(temp_name(path_)), st_(new State) {
  st_->fd = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (st_->fd < 0) {
    delete st_;
    throw DataError(path_.string(), std::string("cannot create: ") + std::strerror(errno));
  }
  // windowBits 15 + 16: gzip wrapper with a default header (no name, mtime 0).
  if (deflateInit2(&st_->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    ::close(st_->fd);
    delete st_;
    throw std::runtime_error("zlib deflateInit2 failed");
  }
  staging_.reserve(kChunk);
}

AtomicGzipWriter::~AtomicGzipWriter() {
  deflateEnd(&st_->z);
  if (st_->fd >= 0) ::close(st_->fd);
  if (!committed_) ::unlink(tmp_.c_str());
  delete st_;
}

void AtomicGzipWriter::deflate_chunk(bool finish) {
  z_stream& z = st_->z;
  z.next_in = reinterpret_cast<Bytef*>(staging_.data());
  z.avail_in = static_cast<uInt>(staging_.size());
  unsigned char out[kChunk];
  int rc;
  do {
    z.next_out = out;
    z.avail_out = sizeof out;
    rc = deflate(&z, finish ? Z_FINISH : Z_NO_FLUSH);
    if (rc == Z_STREAM_ERROR) throw std::runtime_error("zlib deflate failed");
    const std::size_t have = sizeof out - z.avail_out;
    const unsigned char* p = out;
    std::size_t n = have;
    while (n > 0) {
      const ssize_t w = ::write(st_->fd, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) throw DataError(path_.string(), std::string("write: ") + std::strerror(errno));
      p += w;
      n -= static_cast<std::size_t>(w);
    }
  } while (z.avail_out == 0 || (finish && rc != Z_STREAM_END));
  staging_.clear();
}

void AtomicGzipWriter::write(std::string_view text) {
  while (!text.empty()) {
    const std::size_t take = std::min(text.size(), kChunk - staging_.size());
    staging_.append(text.substr(0, take));
    text.remove_prefix(take);
    if (staging_.size() == kChunk) deflate_chunk(false);
  }
}

void AtomicGzipWriter::commit() {
  deflate_chunk(true);
  if (::fsync(st_->fd) != 0 || ::close(st_->fd) != 0) {
    st_->fd = -1;
    throw DataError(path_.string(), std::string("fsync/close: ") + std::strerror(errno));
  }
  st_->fd = -1;
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    throw DataError(path_.string(), std::string("rename: ") + std::strerror(errno));
  }
  committed_ = true;
  fsync_dir(path_.parent_path());
}

std::string read_gzip_file(const std::filesystem::path& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) throw DataError(path.string(), "cannot open");
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      gzclose(f);
      throw DataError(path.string(), "corrupt gzip data");
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  gzclose(f);
  return out;
}

std::string csv_line(const RowScore& r, int continuation_len) {
  std::string s = std::to_string(r.index);
  s += ',';
  s += r.nan ? "nan" : format_score(r.matches, continuation_len);
  s += '\n';
  return s;
}

std::string extended_csv_header() {
  return "index,score,memorized,first_mismatch,min_margin,fragile,eod_in_target,unseen\n";
}

std::string extended_csv_line(const RowScore& r, int continuation_len, double tau, bool unseen) {
  std::string s = std::to_string(r.index) + ",";
  if (r.nan) {
    s += "nan";
  } else if (r.score_known) {
    s += format_score(r.matches, continuation_len);
  }
  s += r.memorized ? ",1," : ",0,";
  s += std::to_string(r.first_mismatch) + "," + shortest(r.min_margin) + ",";
  s += (r.min_margin < tau) ? "1," : "0,";
  s += r.eod_in_target ? "1," : "0,";
  s += unseen ? "1\n" : "0\n";
  return s;
}

void ScanSummary::add(const RowScore& r, double tau, bool unseen) {
  ++rows_scanned;
  if (unseen) ++rows_unseen;
  if (r.eod_in_target) ++rows_eod_in_target;
  if (r.nan) {
    ++rows_nan;
    nan_rows.push_back(r.index);
    return;
  }
  if (r.score_known) {
    ++rows_score_known;
    ++histogram.at(static_cast<std::size_t>(r.matches));
  }
  const bool fragile = r.min_margin < tau;
  if (fragile) near_tie.push_back(r.index);
  if (r.memorized) {
    ++rows_memorized;
    memorized.push_back(r.index);
    if (fragile) memorized_near_tie.push_back(r.index);
  }
}

void ScanSummary::append(const ScanSummary& o) {
  rows_scanned += o.rows_scanned;
  rows_memorized += o.rows_memorized;
  rows_nan += o.rows_nan;
  rows_unseen += o.rows_unseen;
  rows_eod_in_target += o.rows_eod_in_target;
  rows_score_known += o.rows_score_known;
  if (histogram.size() != o.histogram.size()) throw std::logic_error("ScanSummary::append: histogram sizes");
  for (std::size_t k = 0; k < histogram.size(); ++k) histogram[k] += o.histogram[k];
  for (const auto& pair : {std::pair{&memorized, &o.memorized}, std::pair{&near_tie, &o.near_tie},
                     std::pair{&memorized_near_tie, &o.memorized_near_tie}, std::pair{&nan_rows, &o.nan_rows}}) {
    pair.first->insert(pair.first->end(), pair.second->begin(), pair.second->end());
  }
}

std::optional<double> ScanSummary::mean_score() const {
  std::uint64_t rows = 0, matches = 0;
  for (std::size_t k = 0; k < histogram.size(); ++k) {
    rows += histogram[k];
    matches += histogram[k] * k;
  }
  if (rows == 0) return std::nullopt;
  const double L = static_cast<double>(histogram.size() - 1);
  return static_cast<double>(matches) / (static_cast<double>(rows) * L);
}

namespace {

void pretty(const nlohmann::ordered_json& j, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent) + 2, ' ');
  if (j.is_object() && !j.empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& [k, v] : j.items()) {
      if (!first) out += ",\n";
      first = false;
      out += pad + nlohmann::ordered_json(k).dump() + ": ";
      pretty(v, indent + 2, out);
    }
    out += "\n" + std::string(static_cast<std::size_t>(indent), ' ') + "}";
  } else if (j.is_array() && !j.empty() &&
             std::any_of(j.begin(), j.end(), [](const auto& v) { return v.is_structured(); })) {
    out += "[\n";
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (i > 0) out += ",\n";
      out += pad;
      pretty(j[i], indent + 2, out);
    }
    out += "\n" + std::string(static_cast<std::size_t>(indent), ' ') + "]";
  } else if (j.is_array()) {
    out += "[";
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (i > 0) out += ", ";
      out += j[i].dump();
    }
    out += "]";
  } else {
    out += j.dump();
  }
}

}  // namespace

std::string pretty_json(const nlohmann::ordered_json& j) {
  std::string out;
  pretty(j, 0, out);
  out += "\n";
  return out;
}

void set_summary_fields(nlohmann::ordered_json& j, const ScanSummary& s, bool exact) {
  using J = nlohmann::ordered_json;
  j["rows_scanned"] = s.rows_scanned;
  j["rows_memorized"] = s.rows_memorized;
  j["rows_flagged_nan"] = s.rows_nan;
  j["rows_unseen"] = s.rows_unseen;
  j["rows_eod_in_target"] = s.rows_eod_in_target;
  const auto mean = s.mean_score();
  j["mean_score"] = (exact && mean) ? J(*mean) : J(nullptr);
  if (exact) {
    J h = J::array();
    for (auto v : s.histogram) h.push_back(v);
    j["histogram"] = h;
  } else {
    j["histogram"] = nullptr;  // unknown: non-memorized rows are not decoded in this mode
  }
  j["memorized_indices"] = index_array(s.memorized);
  j["near_tie_rows"] = index_array(s.near_tie);
  j["memorized_near_tie_rows"] = index_array(s.memorized_near_tie);
  j["flagged_nan_rows"] = index_array(s.nan_rows);
}

nlohmann::ordered_json memorization_json(const ScanMeta& meta, const ScanSummary& s,
                                         nlohmann::ordered_json run, nlohmann::ordered_json timing) {
  using J = nlohmann::ordered_json;
  const bool exact = meta.scan.exact_score;
  J j;
  j["format"] = "pythia-harness memorization v1";
  j["harness_version"] = "0.1.0";
  j["model"] = meta.model;
  j["revision"] = meta.revision;
  j["step"] = meta.step ? J(*meta.step) : J(nullptr);
  j["data"] = meta.data;
  j["row_range"] = J::array({meta.row_begin, meta.row_end});
  j["sequences_per_step"] = meta.sequences_per_step;
  j["prefix_len"] = meta.scan.prefix_len;
  j["continuation_len"] = meta.scan.continuation_len;
  j["eod_policy"] = eod_policy_name(meta.scan.eod_policy);
  j["score_mode"] = exact ? "exact" : "memorized-only";
  j["tau"] = meta.tau;
  j["compute"] = J{{"dtype", meta.compute_dtype}, {"backend", meta.backend}};
  set_summary_fields(j, s, exact);
  j["files"] = J{{"scores", exact ? J(kScoresCsv) : J(nullptr)},
                 {"extended", meta.extended_csv ? J(kExtendedCsv) : J(nullptr)}};
  j["run"] = std::move(run);
  j["timing"] = std::move(timing);
  return j;
}

ScanSummary summary_from_json(const nlohmann::ordered_json& j, const std::string& file) {
  try {
    const int L = j.at("continuation_len").get<int>();
    ScanSummary s(L);
    s.rows_scanned = j.at("rows_scanned").get<std::uint64_t>();
    s.rows_memorized = j.at("rows_memorized").get<std::uint64_t>();
    s.rows_nan = j.at("rows_flagged_nan").get<std::uint64_t>();
    s.rows_unseen = j.at("rows_unseen").get<std::uint64_t>();
    s.rows_eod_in_target = j.at("rows_eod_in_target").get<std::uint64_t>();
    if (j.at("histogram").is_array()) {
      s.histogram = j.at("histogram").get<std::vector<std::uint64_t>>();
      if (s.histogram.size() != static_cast<std::size_t>(L) + 1) throw DataError(file, "histogram size");
    }
    s.rows_score_known = 0;
    for (auto v : s.histogram) s.rows_score_known += v;
    s.memorized = j.at("memorized_indices").get<std::vector<std::uint64_t>>();
    s.near_tie = j.at("near_tie_rows").get<std::vector<std::uint64_t>>();
    s.memorized_near_tie = j.at("memorized_near_tie_rows").get<std::vector<std::uint64_t>>();
    s.nan_rows = j.at("flagged_nan_rows").get<std::vector<std::uint64_t>>();
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw DataError(file, std::string("not a complete memorization.json: ") + e.what());
  }
}

}  // namespace pythia::harness

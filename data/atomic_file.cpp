#include "data/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "data/error.h"

namespace pythia::data {
namespace fs = std::filesystem;

namespace {

std::string errno_text(const char* call) { return std::string(call) + ": " + std::strerror(errno); }

// Makes the rename durable. A folder that cannot be opened, or a file system that cannot fsync
// folders (EINVAL, ENOTSUP), is tolerated; any other failure (EIO, ENOSPC) is an error naming
// `target`: the file is in place but may not survive a crash.
void fsync_dir(const fs::path& dir, const fs::path& target) {
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;
  if (::fsync(dfd) != 0 && errno != EINVAL && errno != ENOTSUP && errno != EROFS) {
    const std::string e = errno_text("fsync of the folder");
    ::close(dfd);
    throw DataError(target.string(), e);
  }
  ::close(dfd);
}

}  // namespace

fs::path atomic_temp_path(const fs::path& path) {
  return path.parent_path() / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()));
}

bool is_atomic_temp_name(std::string_view name) {
  const auto pos = name.rfind(".tmp-");
  if (name.empty() || name[0] != '.' || pos == std::string_view::npos || pos + 5 == name.size()) {
    return false;
  }
  return name.find_first_not_of("0123456789", pos + 5) == std::string_view::npos;
}

void remove_stale_temporaries(const fs::path& path) {
  const std::string prefix = "." + path.filename().string() + ".tmp-";
  std::error_code ec;
  for (fs::directory_iterator it(path.parent_path().empty() ? "." : path.parent_path(), ec), end;
       !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.rfind(prefix, 0) != 0 || !is_atomic_temp_name(n) || n.size() - prefix.size() > 9) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(n.substr(prefix.size())));
    if (pid > 0 && pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) {
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
}

AtomicFile::AtomicFile(fs::path path) : path_(std::move(path)), tmp_(atomic_temp_path(path_)) {
  std::error_code ec;
  if (path_.has_parent_path()) fs::create_directories(path_.parent_path(), ec);
  if (ec) throw DataError(path_.parent_path().string(), "cannot create the folder: " + ec.message());
  remove_stale_temporaries(path_);
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw DataError(path_.string(), errno_text("cannot create"));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::write(std::string_view bytes) {
  if (fd_ < 0) throw std::logic_error("AtomicFile::write after commit");
  while (!bytes.empty()) {
    const ssize_t w = ::write(fd_, bytes.data(), bytes.size());
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw DataError(path_.string(), errno_text("write"));
    bytes.remove_prefix(static_cast<std::size_t>(w));
  }
}

void AtomicFile::commit() {
  if (fd_ < 0) throw std::logic_error("AtomicFile::commit twice");
  const int fd = fd_;
  fd_ = -1;
  if (::fsync(fd) != 0) {
    const std::string e = errno_text("fsync");
    ::close(fd);
    throw DataError(path_.string(), e);
  }
  if (::close(fd) != 0) throw DataError(path_.string(), errno_text("close"));
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) throw DataError(path_.string(), errno_text("rename"));
  committed_ = true;
  fsync_dir(path_.parent_path(), path_);
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  AtomicFile f(path);
  f.write(bytes);
  f.commit();
}

}  // namespace pythia::data

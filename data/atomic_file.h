// Files that appear whole or not at all: THE atomic writer of the project. Every results file
// (results.json, samples, memorization CSVs and JSON, sweep markers, the HTML report) is written
// through it.
//
// How: the bytes go to a hidden temporary file beside the target (".<name>.tmp-<pid>"), which is
// fsync'ed, renamed over the target, and the folder is fsync'ed so the rename survives a crash.
// A reader therefore sees the old file, or the complete new one; never a torn one. Missing parent
// folders are created. Temporaries of the same target left by a writer that was killed (their
// pid is no running process on this machine) are removed when the target is written again, so a
// re-run after kill -9 leaves no stray ".<name>.tmp-<pid>" behind.
//
// Errors: DataError naming the file and the failing call (create, write: No space left on device,
// fsync/close, rename). On error the temporary file is removed and the target is untouched; the
// one exception is a failed fsync of the folder after the rename (EIO): the complete new file is
// in place, but the error is still reported, as the rename may not survive a crash.
// Thread safety: distinct targets may be written concurrently; one AtomicFile has one owner.
#pragma once

#include <filesystem>
#include <string_view>

namespace pythia::data {

// Writes `bytes` to `path` atomically (see above).
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// A file being written that appears at `path` only on commit().
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path);  // creates the temporary file
  ~AtomicFile();                                     // without commit(): removes it
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view bytes);  // all of it, or DataError
  void commit();                       // fsync, close, rename, fsync the folder

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

// The temporary name of `path` for this process: ".<name>.tmp-<pid>" in the same folder.
std::filesystem::path atomic_temp_path(const std::filesystem::path& path);

// True for a file name of the form ".<name>.tmp-<digits>" (a temporary left by a killed writer).
bool is_atomic_temp_name(std::string_view file_name);

// Removes the temporaries ".<name>.tmp-<pid>" of `path` whose pid is not a running process
// (kill(pid, 0) fails with ESRCH); errors are ignored. AtomicFile calls it before writing.
void remove_stale_temporaries(const std::filesystem::path& path);

}  // namespace pythia::data

/* fault_inject: an LD_PRELOAD shim that makes file writes fail, for the fault-injection tests
 * (tests/fault/, issue #13). Test-only: never linked into the product.
 *
 * Interposed calls: write pwrite pwrite64 writev pwritev ("write"), fsync, fdatasync, close,
 * ftruncate ftruncate64 ("ftruncate"), rename renameat renameat2 ("rename"), open open64 openat
 * openat64 with write access ("open"). A call is *matching* when it is one of the selected ops
 * and the file's path contains PYTHIA_FAULT_PATH (fd calls: the path /proc/self/fd/N names,
 * taken at the call; rename: either name). Every other call goes straight to libc.
 *
 * Configuration (environment, read once at load):
 *   PYTHIA_FAULT_PATH        substring of the path ("...$": the path ends with it, e.g. a
 *                            folder "/step36$"); unset or empty: the shim does nothing
 *   PYTHIA_FAULT_OPS         comma list of write,fsync,fdatasync,close,ftruncate,rename,open
 *                            (default "write")
 *   PYTHIA_FAULT_ERRNO       ENOSPC (default), EIO, EDQUOT, EROFS or a number
 *   PYTHIA_FAULT_AFTER_BYTES n: write ops only; the first n bytes written to matching files (all
 *                            of them together) succeed, the write crossing n is short (as a full
 *                            disk does), every later matching write fails
 *   PYTHIA_FAULT_NTH         n >= 1: the n-th matching call fails, and every later one (a full
 *                            disk stays full) unless PYTHIA_FAULT_ONCE=1
 *   PYTHIA_FAULT_LOG         file: one line "<op> <errno> <path>" appended per injected failure,
 *                            so a test can check that its fault fired
 * Without AFTER_BYTES and NTH every matching call fails. close really closes the descriptor
 * before reporting the error (as Linux does).
 * Thread safety: counters are atomic; the configuration is read-only after load. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum { OP_WRITE = 1, OP_FSYNC = 2, OP_FDATASYNC = 4, OP_CLOSE = 8, OP_FTRUNCATE = 16, OP_RENAME = 32,
       OP_OPEN = 64 };

static const char* g_pattern = NULL;
static int g_ops = OP_WRITE;
static int g_errno = ENOSPC;
static long long g_after_bytes = -1;
static long long g_nth = -1;
static int g_once = 0;
static const char* g_log = NULL;
static long long g_bytes = 0;  /* bytes let through to matching files */
static long long g_calls = 0;  /* matching calls seen */

static int parse_ops(const char* s) {
  static const struct { const char* name; int bit; } names[] = {
      {"write", OP_WRITE}, {"fsync", OP_FSYNC}, {"fdatasync", OP_FDATASYNC}, {"close", OP_CLOSE},
      {"ftruncate", OP_FTRUNCATE}, {"rename", OP_RENAME}, {"open", OP_OPEN}};
  int ops = 0;
  while (*s) {
    size_t n = strcspn(s, ",");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
      if (strlen(names[i].name) == n && strncmp(s, names[i].name, n) == 0) ops |= names[i].bit;
    }
    s += n;
    if (*s == ',') ++s;
  }
  return ops;
}

static int parse_errno(const char* s) {
  if (strcmp(s, "EIO") == 0) return EIO;
  if (strcmp(s, "ENOSPC") == 0) return ENOSPC;
  if (strcmp(s, "EDQUOT") == 0) return EDQUOT;
  if (strcmp(s, "EROFS") == 0) return EROFS;
  return atoi(s) > 0 ? atoi(s) : ENOSPC;
}

__attribute__((constructor)) static void fault_init(void) {
  const char* p = getenv("PYTHIA_FAULT_PATH");
  if (p == NULL || *p == '\0') return;
  g_pattern = p;
  if (getenv("PYTHIA_FAULT_OPS")) g_ops = parse_ops(getenv("PYTHIA_FAULT_OPS"));
  if (getenv("PYTHIA_FAULT_ERRNO")) g_errno = parse_errno(getenv("PYTHIA_FAULT_ERRNO"));
  if (getenv("PYTHIA_FAULT_AFTER_BYTES")) g_after_bytes = atoll(getenv("PYTHIA_FAULT_AFTER_BYTES"));
  if (getenv("PYTHIA_FAULT_NTH")) g_nth = atoll(getenv("PYTHIA_FAULT_NTH"));
  g_once = getenv("PYTHIA_FAULT_ONCE") != NULL && strcmp(getenv("PYTHIA_FAULT_ONCE"), "1") == 0;
  g_log = getenv("PYTHIA_FAULT_LOG");
}

/* real_<name>: the next definition of <name> (libc's), looked up on first use. */
#define REAL(name)                                    \
  static __typeof__(&name) real_##name = NULL;        \
  if (real_##name == NULL) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

static void log_fault(const char* op, const char* path) {
  if (g_log == NULL) return;
  char line[4400];
  const int n = snprintf(line, sizeof line, "%s %d %s\n", op, g_errno, path);
  const int fd = (int)syscall(SYS_openat, AT_FDCWD, g_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (n > 0) (void)syscall(SYS_write, fd, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
  syscall(SYS_close, fd);
}

/* The path of an open descriptor into buf ("" when unknown). */
static const char* fd_path(int fd, char* buf, size_t size) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, buf, size - 1);
  buf[n > 0 ? n : 0] = '\0';
  return buf;
}

static int matches(int op, const char* path) {
  if (g_pattern == NULL || !(g_ops & op) || path == NULL) return 0;
  const size_t n = strlen(g_pattern), len = strlen(path);
  if (n > 1 && g_pattern[n - 1] == '$') {  /* "...$": the path ends with it */
    return len >= n - 1 && strncmp(path + len - (n - 1), g_pattern, n - 1) == 0;
  }
  return strstr(path, g_pattern) != NULL;
}

/* Counts a matching non-byte call; 1 when it must fail. */
static int call_fails(void) {
  const long long n = __atomic_add_fetch(&g_calls, 1, __ATOMIC_SEQ_CST);
  if (g_nth < 1) return g_after_bytes < 0;  /* no trigger given: always; byte mode: calls pass */
  return g_once ? n == g_nth : n >= g_nth;
}

/* For a matching write of `want` bytes: how many may go through (0 with errno = fail). Returns
 * -1 when the whole write must fail. */
static long long write_allowance(size_t want) {
  if (g_after_bytes >= 0) {
    const long long before = __atomic_fetch_add(&g_bytes, (long long)want, __ATOMIC_SEQ_CST);
    if (before >= g_after_bytes) return -1;
    const long long room = g_after_bytes - before;
    return room >= (long long)want ? (long long)want : room;
  }
  return call_fails() ? -1 : (long long)want;
}

static ssize_t fail(const char* op, const char* path) {
  log_fault(op, path);
  errno = g_errno;
  return -1;
}

ssize_t write(int fd, const void* buf, size_t count) {
  REAL(write);
  char path[4096];
  if (g_pattern != NULL && (g_ops & OP_WRITE) && matches(OP_WRITE, fd_path(fd, path, sizeof path))) {
    const long long ok = write_allowance(count);
    if (ok < 0) return fail("write", path);
    if ((size_t)ok < count) log_fault("write-short", path);
    return real_write(fd, buf, (size_t)ok);
  }
  return real_write(fd, buf, count);
}

static ssize_t do_pwrite(const char* op, int fd, const void* buf, size_t count, off_t off,
                         ssize_t (*real)(int, const void*, size_t, off_t)) {
  char path[4096];
  if (g_pattern != NULL && (g_ops & OP_WRITE) && matches(OP_WRITE, fd_path(fd, path, sizeof path))) {
    const long long ok = write_allowance(count);
    if (ok < 0) return fail(op, path);
    return real(fd, buf, (size_t)ok, off);
  }
  return real(fd, buf, count, off);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t off) {
  REAL(pwrite);
  return do_pwrite("pwrite", fd, buf, count, off, real_pwrite);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off_t off) {
  REAL(pwrite64);
  return do_pwrite("pwrite64", fd, buf, count, off, real_pwrite64);
}

static size_t iov_bytes(const struct iovec* iov, int n) {
  size_t total = 0;
  for (int i = 0; i < n; ++i) total += iov[i].iov_len;
  return total;
}

/* A vector write that must be short: written as one plain write of its first `ok` bytes. */
static ssize_t short_vector_write(int fd, const struct iovec* iov, int n, size_t ok) {
  REAL(write);
  size_t done = 0;
  for (int i = 0; i < n && done < ok; ++i) {
    const size_t take = iov[i].iov_len < ok - done ? iov[i].iov_len : ok - done;
    const ssize_t w = real_write(fd, iov[i].iov_base, take);
    if (w < 0) return done > 0 ? (ssize_t)done : -1;
    done += (size_t)w;
    if ((size_t)w < take) break;
  }
  return (ssize_t)done;
}

ssize_t writev(int fd, const struct iovec* iov, int n) {
  REAL(writev);
  char path[4096];
  if (g_pattern != NULL && (g_ops & OP_WRITE) && matches(OP_WRITE, fd_path(fd, path, sizeof path))) {
    const size_t want = iov_bytes(iov, n);
    const long long ok = write_allowance(want);
    if (ok < 0) return fail("writev", path);
    if ((size_t)ok < want) return short_vector_write(fd, iov, n, (size_t)ok);
  }
  return real_writev(fd, iov, n);
}

ssize_t pwritev(int fd, const struct iovec* iov, int n, off_t off) {
  REAL(pwritev);
  char path[4096];
  if (g_pattern != NULL && (g_ops & OP_WRITE) && matches(OP_WRITE, fd_path(fd, path, sizeof path))) {
    if (write_allowance(iov_bytes(iov, n)) != (long long)iov_bytes(iov, n)) return fail("pwritev", path);
  }
  return real_pwritev(fd, iov, n, off);
}

static int fd_call_fails(int op, int fd, char* path, size_t size) {
  return g_pattern != NULL && (g_ops & op) && matches(op, fd_path(fd, path, size)) && call_fails();
}

int fsync(int fd) {
  REAL(fsync);
  char path[4096];
  if (fd_call_fails(OP_FSYNC, fd, path, sizeof path)) return (int)fail("fsync", path);
  return real_fsync(fd);
}

int fdatasync(int fd) {
  REAL(fdatasync);
  char path[4096];
  if (fd_call_fails(OP_FDATASYNC, fd, path, sizeof path)) return (int)fail("fdatasync", path);
  return real_fdatasync(fd);
}

int close(int fd) {
  REAL(close);
  char path[4096];
  if (fd > 2 && fd_call_fails(OP_CLOSE, fd, path, sizeof path)) {
    real_close(fd);
    return (int)fail("close", path);
  }
  return real_close(fd);
}

int ftruncate(int fd, off_t len) {
  REAL(ftruncate);
  char path[4096];
  if (fd_call_fails(OP_FTRUNCATE, fd, path, sizeof path)) return (int)fail("ftruncate", path);
  return real_ftruncate(fd, len);
}

int ftruncate64(int fd, off_t len) {
  REAL(ftruncate64);
  char path[4096];
  if (fd_call_fails(OP_FTRUNCATE, fd, path, sizeof path)) return (int)fail("ftruncate", path);
  return real_ftruncate64(fd, len);
}

static int rename_fails(const char* from, const char* to) {
  if (g_pattern == NULL || !(g_ops & OP_RENAME)) return 0;
  if (!matches(OP_RENAME, from) && !matches(OP_RENAME, to)) return 0;
  return call_fails();
}

int rename(const char* from, const char* to) {
  REAL(rename);
  if (rename_fails(from, to)) return (int)fail("rename", to);
  return real_rename(from, to);
}

int renameat(int dfrom, const char* from, int dto, const char* to) {
  REAL(renameat);
  if (rename_fails(from, to)) return (int)fail("renameat", to);
  return real_renameat(dfrom, from, dto, to);
}

int renameat2(int dfrom, const char* from, int dto, const char* to, unsigned flags) {
  REAL(renameat2);
  if (rename_fails(from, to)) return (int)fail("renameat2", to);
  return real_renameat2(dfrom, from, dto, to, flags);
}

static int open_fails(const char* path, int flags) {
  const int writes = (flags & O_ACCMODE) != O_RDONLY || (flags & O_CREAT);
  return g_pattern != NULL && writes && matches(OP_OPEN, path) && call_fails();
}

#define OPEN_MODE(flags, mode)                        \
  mode_t mode = 0;                                    \
  if ((flags) & (O_CREAT | O_TMPFILE)) {              \
    va_list ap;                                       \
    va_start(ap, flags);                              \
    mode = (mode_t)va_arg(ap, int);                   \
    va_end(ap);                                       \
  }

int open(const char* path, int flags, ...) {
  REAL(open);
  OPEN_MODE(flags, mode);
  if (open_fails(path, flags)) return (int)fail("open", path);
  return real_open(path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  REAL(open64);
  OPEN_MODE(flags, mode);
  if (open_fails(path, flags)) return (int)fail("open", path);
  return real_open64(path, flags, mode);
}

int openat(int dir, const char* path, int flags, ...) {
  REAL(openat);
  OPEN_MODE(flags, mode);
  if (open_fails(path, flags)) return (int)fail("openat", path);
  return real_openat(dir, path, flags, mode);
}

int openat64(int dir, const char* path, int flags, ...) {
  REAL(openat64);
  OPEN_MODE(flags, mode);
  if (open_fails(path, flags)) return (int)fail("openat", path);
  return real_openat64(dir, path, flags, mode);
}

// powercut_shim: an LD_PRELOAD layer that makes a directory behave like a disk whose volatile
// write cache is lost at a power cut (tests/faults/agent_crash_test.py, docs/reliability.md).
//
//   LD_PRELOAD=libanshin_powercut.so ANSHIN_POWERCUT_DIR=/abs/dir [ANSHIN_POWERCUT_WRITEBACK=P]
//   [ANSHIN_POWERCUT_SEED=N] anshin-agent run ...
//
// Every write to a regular file under ANSHIN_POWERCUT_DIR (pwrite, write, ftruncate) is kept in
// this process's memory, page by page, and reaches the real file only when the file is fsync'ed
// or fdatasync'ed. Reads and fstat of the process see its own writes (as they would through the
// page cache). SIGKILL of the process is then the power cut: whatever was not synced is gone.
// With ANSHIN_POWERCUT_WRITEBACK=P (0..100), each buffered write also writes a random subset of
// the 512-byte sectors of one random pending page to the real file (P % of the time), as a
// kernel's writeback would before the cut, in no particular order: the state after a cut is the
// last synced state plus any subset of later sectors, which is what a disk without barriers
// between syncs may leave.
//
// Not buffered: file creation, unlink and rename (directory entries are applied at once, i.e.
// taken as durable), and SQLite's `-shm` file, the WAL index in shared memory, which SQLite
// rebuilds from the WAL whenever the first connection opens after a crash. mmap of a buffered
// file fails (ENODEV), so SQLite reads it with pread (it falls back to that by itself) and never
// sees the real file behind the layer's back. Reading or writing a buffered file at the file
// offset (read/write) is supported; anything else that would bypass the layer is not used by
// SQLite 3.40 (see the symbols it imports: open64, pread64, pwrite64, write, ftruncate64, fstat64,
// fsync/fdatasync, mmap64, unlink).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "stat and stat64 differ");

enum { kPage = 4096, kSector = 512, kMaxFds = 4096, kMaxFiles = 64 };

struct Page {
  off_t index;
  unsigned char data[kPage];
};

struct File {
  int used;
  dev_t dev;
  ino_t ino;
  off_t size;        // the size this process sees
  off_t real_valid;  // bytes of the real file not cut away by a buffered ftruncate
  struct Page* pages;
  size_t count, cap;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char dir[4096];
static size_t dir_len;
static int writeback_percent;
static uint64_t rng_state = 88172645463325252ull;
static struct File files[kMaxFiles];
static int fd_file[kMaxFds];  // index into files + 1; 0: not buffered

static int (*real_open)(const char*, int, ...);
static int (*real_openat)(int, const char*, int, ...);
static int (*real_close)(int);
static ssize_t (*real_pread)(int, void*, size_t, off_t);
static ssize_t (*real_pwrite)(int, const void*, size_t, off_t);
static ssize_t (*real_read)(int, void*, size_t);
static ssize_t (*real_write)(int, const void*, size_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_fstat)(int, struct stat64*);
static int (*real_stat)(const char*, struct stat64*);
static int (*real_lstat)(const char*, struct stat64*);
static void* (*real_mmap)(void*, size_t, int, int, int, off_t);
static int (*real_unlink)(const char*);

static void die(const char* what) {
  fprintf(stderr, "powercut_shim: %s\n", what);
  abort();
}

static uint64_t Random(void) {  // xorshift64
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void Init(void) {
#define RESOLVE(name, sym) \
  if (!(real_##name = dlsym(RTLD_NEXT, sym))) die("no " sym)
  RESOLVE(open, "open64");
  RESOLVE(openat, "openat64");
  RESOLVE(close, "close");
  RESOLVE(pread, "pread64");
  RESOLVE(pwrite, "pwrite64");
  RESOLVE(read, "read");
  RESOLVE(write, "write");
  RESOLVE(ftruncate, "ftruncate64");
  RESOLVE(fsync, "fsync");
  RESOLVE(fdatasync, "fdatasync");
  RESOLVE(fstat, "fstat64");
  RESOLVE(stat, "stat64");
  RESOLVE(lstat, "lstat64");
  RESOLVE(mmap, "mmap64");
  RESOLVE(unlink, "unlink");
#undef RESOLVE
  const char* d = getenv("ANSHIN_POWERCUT_DIR");
  if (!d || d[0] != '/') die("ANSHIN_POWERCUT_DIR must be an absolute path");
  snprintf(dir, sizeof dir, "%s", d);
  dir_len = strlen(dir);
  while (dir_len > 1 && dir[dir_len - 1] == '/') dir[--dir_len] = 0;
  const char* p = getenv("ANSHIN_POWERCUT_WRITEBACK");
  writeback_percent = p ? atoi(p) : 0;
  const char* s = getenv("ANSHIN_POWERCUT_SEED");
  if (s && strtoull(s, NULL, 10) != 0) rng_state = strtoull(s, NULL, 10);
}

// Other libraries' constructors may open files before this one's would run: every wrapper
// resolves the real functions first.
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static inline void Ready(void) { pthread_once(&init_once, Init); }

// Whether `path` (absolute, or relative to the working directory) names a file to buffer.
static int Covered(int dirfd, const char* path) {
  char full[8192];
  if (path[0] == '/') {
    snprintf(full, sizeof full, "%s", path);
  } else {
    char cwd[4096];
    if (dirfd != AT_FDCWD || !getcwd(cwd, sizeof cwd)) return 0;
    snprintf(full, sizeof full, "%s/%s", cwd, path);
  }
  size_t n = strlen(full);
  if (strncmp(full, dir, dir_len) != 0 || full[dir_len] != '/') return 0;
  return !(n > 4 && strcmp(full + n - 4, "-shm") == 0);
}

static struct File* FileOf(int fd) {
  if (fd < 0 || fd >= kMaxFds || fd_file[fd] == 0) return NULL;
  return &files[fd_file[fd] - 1];
}

static struct File* FindInode(dev_t dev, ino_t ino) {
  for (int i = 0; i < kMaxFiles; ++i) {
    if (files[i].used && files[i].dev == dev && files[i].ino == ino) return &files[i];
  }
  return NULL;
}

static void Track(int fd) {
  struct stat64 st;
  if (fd < 0 || fd >= kMaxFds || real_fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
  pthread_mutex_lock(&mu);
  struct File* f = FindInode(st.st_dev, st.st_ino);
  for (int i = 0; !f && i < kMaxFiles; ++i) {
    if (!files[i].used) {
      f = &files[i];
      memset(f, 0, sizeof *f);
      f->used = 1;
      f->dev = st.st_dev;
      f->ino = st.st_ino;
      f->size = st.st_size;
      f->real_valid = st.st_size;
    }
  }
  if (!f) die("too many files");
  fd_file[fd] = (int)(f - files) + 1;
  pthread_mutex_unlock(&mu);
}

static struct Page* FindPage(struct File* f, off_t index) {
  for (size_t i = 0; i < f->count; ++i) {
    if (f->pages[i].index == index) return &f->pages[i];
  }
  return NULL;
}

// The page as the real file holds it, zero past what a buffered truncation cut away.
static void LoadReal(int fd, struct File* f, off_t index, unsigned char* out) {
  memset(out, 0, kPage);
  off_t start = index * kPage;
  if (start >= f->real_valid) return;
  size_t want = (size_t)(f->real_valid - start < kPage ? f->real_valid - start : kPage);
  ssize_t got = real_pread(fd, out, want, start);
  if (got < 0) die("pread of the real file failed");
}

static struct Page* TouchPage(int fd, struct File* f, off_t index) {
  struct Page* p = FindPage(f, index);
  if (p) return p;
  if (f->count == f->cap) {
    f->cap = f->cap ? 2 * f->cap : 16;
    f->pages = realloc(f->pages, f->cap * sizeof *f->pages);
    if (!f->pages) die("out of memory");
  }
  p = &f->pages[f->count++];
  p->index = index;
  LoadReal(fd, f, index, p->data);
  return p;
}

// Writeback before the cut: some sectors of one pending page reach the real file.
static void MaybeWriteBack(int fd, struct File* f) {
  if (writeback_percent <= 0 || f->count == 0 || (int)(Random() % 100) >= writeback_percent) return;
  struct Page* p = &f->pages[Random() % f->count];
  unsigned mask = (unsigned)Random();
  for (int s = 0; s < kPage / kSector; ++s) {
    off_t at = p->index * kPage + s * kSector;
    if (!(mask & (1u << s)) || at >= f->size) continue;
    size_t n = (size_t)(f->size - at < kSector ? f->size - at : kSector);
    if (real_pwrite(fd, p->data + s * kSector, n, at) < 0) die("writeback failed");
  }
}

static ssize_t BufferedWrite(int fd, struct File* f, const void* buf, size_t n, off_t off) {
  const unsigned char* src = buf;
  size_t done = 0;
  while (done < n) {
    off_t at = off + (off_t)done;
    struct Page* p = TouchPage(fd, f, at / kPage);
    size_t in = (size_t)(at % kPage);
    size_t len = n - done < kPage - in ? n - done : kPage - in;
    memcpy(p->data + in, src + done, len);
    done += len;
  }
  if (off + (off_t)n > f->size) f->size = off + (off_t)n;
  MaybeWriteBack(fd, f);
  return (ssize_t)n;
}

static ssize_t BufferedRead(int fd, struct File* f, void* buf, size_t n, off_t off) {
  if (off >= f->size) return 0;
  if ((off_t)n > f->size - off) n = (size_t)(f->size - off);
  unsigned char* dst = buf;
  unsigned char page[kPage];
  size_t done = 0;
  while (done < n) {
    off_t at = off + (off_t)done;
    struct Page* p = FindPage(f, at / kPage);
    if (!p) LoadReal(fd, f, at / kPage, page);
    size_t in = (size_t)(at % kPage);
    size_t len = n - done < kPage - in ? n - done : kPage - in;
    memcpy(dst + done, (p ? p->data : page) + in, len);
    done += len;
  }
  return (ssize_t)n;
}

static int Flush(int fd, struct File* f) {
  struct stat64 st;
  if (real_fstat(fd, &st) != 0) return -1;
  if (f->real_valid < st.st_size && real_ftruncate(fd, f->real_valid) != 0) return -1;
  for (size_t i = 0; i < f->count; ++i) {
    off_t at = f->pages[i].index * kPage;
    if (at >= f->size) continue;
    size_t n = (size_t)(f->size - at < kPage ? f->size - at : kPage);
    if (real_pwrite(fd, f->pages[i].data, n, at) != (ssize_t)n) return -1;
  }
  if (real_ftruncate(fd, f->size) != 0) return -1;
  f->count = 0;
  f->real_valid = f->size;
  return 0;
}

static int OpenedCovered(int fd, const char* path, int dirfd) {
  if (fd >= 0 && Covered(dirfd, path)) Track(fd);
  return fd;
}

int open64(const char* path, int flags, ...) {
  Ready();
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  return OpenedCovered(real_open(path, flags, mode), path, AT_FDCWD);
}
int open(const char* path, int flags, ...) __attribute__((alias("open64")));

int openat64(int dirfd, const char* path, int flags, ...) {
  Ready();
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  return OpenedCovered(real_openat(dirfd, path, flags, mode), path, dirfd);
}
int openat(int dirfd, const char* path, int flags, ...) __attribute__((alias("openat64")));

int close(int fd) {
  Ready();
  if (fd >= 0 && fd < kMaxFds) {
    pthread_mutex_lock(&mu);
    fd_file[fd] = 0;  // the pending pages stay: they belong to the file, not to this fd
    pthread_mutex_unlock(&mu);
  }
  return real_close(fd);
}

#define WITH_FILE(fd, fallback, expr)  \
  Ready();                             \
  pthread_mutex_lock(&mu);             \
  struct File* f = FileOf(fd);         \
  if (!f) {                            \
    pthread_mutex_unlock(&mu);         \
    return fallback;                   \
  }                                    \
  __typeof__(fallback) result_ = expr; \
  pthread_mutex_unlock(&mu);           \
  return result_

ssize_t pwrite64(int fd, const void* buf, size_t n, off_t off) {
  WITH_FILE(fd, real_pwrite(fd, buf, n, off), BufferedWrite(fd, f, buf, n, off));
}
ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) __attribute__((alias("pwrite64")));

ssize_t pread64(int fd, void* buf, size_t n, off_t off) {
  WITH_FILE(fd, real_pread(fd, buf, n, off), BufferedRead(fd, f, buf, n, off));
}
ssize_t pread(int fd, void* buf, size_t n, off_t off) __attribute__((alias("pread64")));

static ssize_t AtOffset(int fd, struct File* f, void* buf, size_t n, int writing) {
  off_t off = lseek(fd, 0, SEEK_CUR);
  if (off < 0) return -1;
  ssize_t r = writing ? BufferedWrite(fd, f, buf, n, off) : BufferedRead(fd, f, buf, n, off);
  if (r > 0) lseek(fd, off + r, SEEK_SET);
  return r;
}

ssize_t write(int fd, const void* buf, size_t n) {
  WITH_FILE(fd, real_write(fd, buf, n), AtOffset(fd, f, (void*)buf, n, 1));
}

ssize_t read(int fd, void* buf, size_t n) {
  WITH_FILE(fd, real_read(fd, buf, n), AtOffset(fd, f, buf, n, 0));
}

static int Truncate(struct File* f, off_t size) {
  f->size = size;
  if (size < f->real_valid) f->real_valid = size;
  for (size_t i = 0; i < f->count;) {  // pages wholly past the end go; a partial one is cut
    struct Page* p = &f->pages[i];
    if (p->index * kPage >= size) {
      *p = f->pages[--f->count];
      continue;
    }
    if (p->index * kPage + kPage > size) {
      size_t keep = (size_t)(size - p->index * kPage);
      memset(p->data + keep, 0, kPage - keep);
    }
    ++i;
  }
  return 0;
}

int ftruncate64(int fd, off_t size) { WITH_FILE(fd, real_ftruncate(fd, size), Truncate(f, size)); }
int ftruncate(int fd, off_t size) __attribute__((alias("ftruncate64")));

static int Sync(int fd, struct File* f, int data_only) {
  if (Flush(fd, f) != 0) return -1;
  return data_only ? real_fdatasync(fd) : real_fsync(fd);
}

int fsync(int fd) { WITH_FILE(fd, real_fsync(fd), Sync(fd, f, 0)); }
int fdatasync(int fd) { WITH_FILE(fd, real_fdatasync(fd), Sync(fd, f, 1)); }

static void SeenSize(struct stat64* st) {
  pthread_mutex_lock(&mu);
  struct File* f = FindInode(st->st_dev, st->st_ino);
  if (f) st->st_size = f->size;
  pthread_mutex_unlock(&mu);
}

// x86_64 and aarch64: struct stat and struct stat64 are the same layout.
int fstat64(int fd, struct stat64* st) {
  Ready();
  int r = real_fstat(fd, st);
  if (r == 0) SeenSize(st);
  return r;
}
int fstat(int fd, struct stat* st) { return fstat64(fd, (struct stat64*)st); }

int stat64(const char* path, struct stat64* st) {
  Ready();
  int r = real_stat(path, st);
  if (r == 0) SeenSize(st);
  return r;
}
int stat(const char* path, struct stat* st) { return stat64(path, (struct stat64*)st); }

int lstat64(const char* path, struct stat64* st) {
  Ready();
  int r = real_lstat(path, st);
  if (r == 0) SeenSize(st);
  return r;
}
int lstat(const char* path, struct stat* st) { return lstat64(path, (struct stat64*)st); }

void* mmap64(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  Ready();
  pthread_mutex_lock(&mu);
  int buffered = FileOf(fd) != NULL;
  pthread_mutex_unlock(&mu);
  if (buffered) {
    errno = ENODEV;
    return MAP_FAILED;
  }
  return real_mmap(addr, len, prot, flags, fd, off);
}
void* mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off)
    __attribute__((alias("mmap64")));

int unlink(const char* path) {
  Ready();
  struct stat64 st;
  if (real_stat(path, &st) == 0) {
    pthread_mutex_lock(&mu);
    struct File* f = FindInode(st.st_dev, st.st_ino);
    if (f) {  // its pages go with it; the inode number may be reused
      free(f->pages);
      memset(f, 0, sizeof *f);
      for (int i = 0; i < kMaxFds; ++i) {
        if (fd_file[i] == (int)(f - files) + 1) fd_file[i] = 0;
      }
    }
    pthread_mutex_unlock(&mu);
  }
  return real_unlink(path);
}

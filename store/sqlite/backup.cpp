#include "store/sqlite/backup.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/sqlite/sqlite.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace anshin::store {
namespace {

namespace fs = std::filesystem;

std::string Errno() { return std::strerror(errno); }

fs::path FolderOf(const fs::path& file) {
  fs::path parent = file.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

// A file made with mkstemp (0600) beside `near`, removed with its SQLite companions unless it
// was renamed into place with Commit().
class TempFile {
 public:
  static Result<TempFile> Create(const fs::path& near, const std::string& suffix) {
    std::string templ =
        (FolderOf(near) / ("." + near.filename().string() + suffix + "-XXXXXX")).string();
    const int fd = ::mkostemp(templ.data(), O_CLOEXEC);
    if (fd < 0) {
      return Status::Unavailable("cannot create a temporary file in " + FolderOf(near).string() +
                                 ": " + Errno());
    }
    return TempFile(templ, fd);
  }
  TempFile(TempFile&& o) noexcept
      : path_(std::exchange(o.path_, fs::path())), fd_(std::exchange(o.fd_, -1)) {}
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (path_.empty()) return;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      ::unlink((path_.string() + suffix).c_str());
    }
  }

  const fs::path& path() const { return path_; }
  int fd() const { return fd_; }

  Status Sync() const {
    if (::fsync(fd_) != 0) return Status::Unavailable("fsync " + path_.string() + ": " + Errno());
    return Status::Ok();
  }
  Result<std::uint64_t> Size() const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0)
      return Status::Unavailable("stat " + path_.string() + ": " + Errno());
    return static_cast<std::uint64_t>(st.st_size);
  }
  // Renames the file to `target` and fsyncs the folder; the file is then no longer removed.
  Status Commit(const fs::path& target) {
    if (::rename(path_.c_str(), target.c_str()) != 0) {
      return Status::Unavailable("renaming " + path_.string() + " to " + target.string() + ": " +
                                 Errno());
    }
    path_.clear();
    const fs::path folder = FolderOf(target);
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return Status::Unavailable("opening " + folder.string() + ": " + Errno());
    const int rc = ::fsync(dir);
    const std::string err = rc != 0 ? Errno() : "";
    ::close(dir);
    if (rc != 0) return Status::Unavailable("fsync " + folder.string() + ": " + err);
    return Status::Ok();
  }

 private:
  TempFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  fs::path path_;
  int fd_;
};

ReadFn FdReader(int fd, const fs::path& name) {
  return [fd, name](std::span<std::uint8_t> buf) -> Result<std::size_t> {
    for (;;) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return Status::Unavailable("reading " + name.string() + ": " + Errno());
    }
  };
}

WriteFn FdWriter(int fd, const fs::path& name) {
  return [fd, name](std::span<const std::uint8_t> data) -> Status {
    while (!data.empty()) {
      const ssize_t n = ::write(fd, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::Unavailable("writing " + name.string() + ": " + Errno());
      data = data.subspan(static_cast<std::size_t>(n));
    }
    return Status::Ok();
  };
}

struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

Status Rewind(int fd, const fs::path& name) {
  if (::lseek(fd, 0, SEEK_SET) != 0) return Status::Unavailable("seeking " + name.string());
  return Status::Ok();
}

// Copies `source` into the empty file `image` with the online backup API, in one step (one
// read transaction: a snapshot), then gives the image the rollback journal. The source is
// opened read-write (never created) although only read: a read-only connection to a WAL
// database that no server has open creates its -wal and -shm and cannot remove them, leaving
// them owned by whoever ran the backup; a read-write one removes them when it closes.
Status CopyDatabase(const fs::path& source, const fs::path& image) {
  sqlite::Db::Options rw;
  rw.create = false;
  rw.file_mode = 0777;  // leave the database's permissions as the operator set them
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Db> src, sqlite::Db::Open(source, rw));
  sqlite3* dest = nullptr;
  if (sqlite3_open_v2(image.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string msg = dest != nullptr ? sqlite3_errmsg(dest) : "out of memory";
    sqlite3_close(dest);
    return Status::Unavailable("opening " + image.string() + ": " + msg);
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> closer(dest, sqlite3_close);
  sqlite3_backup* b = sqlite3_backup_init(dest, "main", src->handle(), "main");
  if (b == nullptr) {
    return Status::Internal("starting the backup of " + source.string() + ": " +
                            sqlite3_errmsg(dest));
  }
  int rc = SQLITE_OK;
  // The source is busy only while another connection recovers its WAL: wait up to 10 s.
  for (int attempt = 0; attempt < 100; ++attempt) {
    rc = sqlite3_backup_step(b, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) {
    return Status::Unavailable("copying " + source.string() + ": " + sqlite3_errstr(rc));
  }
  if (sqlite3_exec(dest, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Status::Unavailable("finishing " + image.string() + ": " + sqlite3_errmsg(dest));
  }
  return Status::Ok();
}

Result<std::int64_t> OneInt(sqlite::Db& db, std::string_view sql) {
  ANSHIN_ASSIGN_OR_RETURN(sqlite::Query q, db.PrepareUncached(sql));
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.Int(0) : 0;
}

// Checks an image (integrity, an anshin schema no newer than this build's) and reads its
// schema version and tap count. `what` names the image's origin in messages.
Result<BackupSummary> InspectImage(const fs::path& image, const std::string& what) {
  sqlite::Db::Options ro;
  ro.read_only = true;
  ro.create = false;
  Result<std::unique_ptr<sqlite::Db>> opened = sqlite::Db::Open(image, ro);
  if (!opened.ok()) {
    return Status::FailedPrecondition(what +
                                      " is not a readable database: " + opened.status().message());
  }
  std::unique_ptr<sqlite::Db> db = std::move(opened).value();
  Result<sqlite::Query> check = db->PrepareUncached("PRAGMA integrity_check(5)");
  if (!check.ok()) {
    return Status::FailedPrecondition(what +
                                      " is not a readable database: " + check.status().message());
  }
  std::string problems;
  Status walked = check->ForEachRow([&] {
    if (check->TextView(0) != "ok") problems += (problems.empty() ? "" : "; ") + check->Text(0);
  });
  if (!walked.ok()) {
    return Status::FailedPrecondition(what + " is not a readable database: " + walked.message());
  }
  if (!problems.empty()) {
    return Status::FailedPrecondition(what + " fails SQLite's integrity check: " + problems);
  }
  ANSHIN_ASSIGN_OR_RETURN(std::int64_t anshin_tables,
                          OneInt(*db,
                                 "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
                                 "name IN ('schema_version', 'taps')"));
  if (anshin_tables != 2) {
    return Status::FailedPrecondition(what +
                                      " is not an anshin database (no schema_version or taps)");
  }
  BackupSummary s;
  ANSHIN_ASSIGN_OR_RETURN(std::int64_t version,
                          OneInt(*db, "SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  s.schema_version = static_cast<int>(version);
  if (s.schema_version > LatestSchemaVersion()) {
    return Status::FailedPrecondition(
        what + " has schema v" + std::to_string(s.schema_version) + ", newer than this build's v" +
        std::to_string(LatestSchemaVersion()) + ": restore it with the release that wrote it");
  }
  ANSHIN_ASSIGN_OR_RETURN(s.taps, OneInt(*db, "SELECT COUNT(*) FROM taps"));
  return s;
}

Status RemoveIfPresent(const fs::path& file) {
  if (::unlink(file.c_str()) != 0 && errno != ENOENT) {
    return Status::Unavailable("removing " + file.string() + ": " + Errno());
  }
  return Status::Ok();
}

}  // namespace

Result<BackupSummary> BackupSqliteDatabase(const BackupOptions& o) {
  std::error_code ec;
  if (!fs::exists(o.database, ec)) {
    return Status::NotFound(o.database.string() + " does not exist (is --home right?)");
  }
  BackupSummary s;
  if (!o.key) {
    ANSHIN_ASSIGN_OR_RETURN(TempFile image, TempFile::Create(o.out, ".tmp"));
    ANSHIN_RETURN_IF_ERROR(CopyDatabase(o.database, image.path()));
    ANSHIN_ASSIGN_OR_RETURN(s, InspectImage(image.path(), "the copy of " + o.database.string()));
    ANSHIN_RETURN_IF_ERROR(image.Sync());
    ANSHIN_ASSIGN_OR_RETURN(s.file_bytes, image.Size());
    ANSHIN_RETURN_IF_ERROR(image.Commit(o.out));
    return s;
  }
  ANSHIN_ASSIGN_OR_RETURN(TempFile image, TempFile::Create(o.database, ".backup"));
  ANSHIN_RETURN_IF_ERROR(CopyDatabase(o.database, image.path()));
  ANSHIN_ASSIGN_OR_RETURN(s, InspectImage(image.path(), "the copy of " + o.database.string()));
  ANSHIN_ASSIGN_OR_RETURN(TempFile sealed, TempFile::Create(o.out, ".tmp"));
  ANSHIN_RETURN_IF_ERROR(Rewind(image.fd(), image.path()));
  ANSHIN_RETURN_IF_ERROR(EncryptBackup(FdReader(image.fd(), image.path()),
                                       FdWriter(sealed.fd(), sealed.path()), *o.key));
  ANSHIN_RETURN_IF_ERROR(sealed.Sync());
  ANSHIN_ASSIGN_OR_RETURN(s.file_bytes, sealed.Size());
  ANSHIN_RETURN_IF_ERROR(sealed.Commit(o.out));
  s.encrypted = true;
  return s;
}

Result<BackupSummary> RestoreSqliteDatabase(const RestoreOptions& o,
                                            const sys::InstanceLock& /*held*/) {
  const int in = ::open(o.from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Status::NotFound("cannot open " + o.from.string() + ": " + Errno());
  const FdCloser closer{in};
  std::array<std::uint8_t, 16> first{};
  const ReadFn read = FdReader(in, o.from);
  ANSHIN_ASSIGN_OR_RETURN(std::size_t got, read(first));
  const BackupFormat format = DetectBackupFormat(std::span(first.data(), got));
  if (format == BackupFormat::kUnknown) {
    return Status::InvalidArgument(o.from.string() +
                                   " is not an anshin backup (neither a SQLite database nor an "
                                   "encrypted backup)");
  }
  if (format == BackupFormat::kEncrypted && !o.key) {
    return Status::InvalidArgument(o.from.string() + " is encrypted: give its --key-file");
  }
  if (format == BackupFormat::kSqlite && o.key) {
    return Status::InvalidArgument(
        o.from.string() + " is not encrypted: leave out --key-file (is it the right file?)");
  }
  std::error_code ec;
  if (fs::exists(o.database, ec) && !o.force) {
    return Status::AlreadyExists(o.database.string() +
                                 " exists: restoring replaces it and everything recorded since "
                                 "the backup; give --force to do so");
  }

  ANSHIN_ASSIGN_OR_RETURN(TempFile image, TempFile::Create(o.database, ".restore"));
  ANSHIN_RETURN_IF_ERROR(Rewind(in, o.from));
  const WriteFn write = FdWriter(image.fd(), image.path());
  if (format == BackupFormat::kEncrypted) {
    ANSHIN_RETURN_IF_ERROR(DecryptBackup(read, write, *o.key).WithContext(o.from.string()));
  } else {
    std::vector<std::uint8_t> buf(kBackupChunkSize);
    for (;;) {
      ANSHIN_ASSIGN_OR_RETURN(std::size_t n, read(buf));
      if (n == 0) break;
      ANSHIN_RETURN_IF_ERROR(write(std::span(buf.data(), n)));
    }
  }
  ANSHIN_RETURN_IF_ERROR(image.Sync());
  ANSHIN_ASSIGN_OR_RETURN(BackupSummary s, InspectImage(image.path(), o.from.string()));
  struct stat st {};
  if (::fstat(in, &st) == 0) s.file_bytes = static_cast<std::uint64_t>(st.st_size);
  s.encrypted = format == BackupFormat::kEncrypted;

  // The old database's WAL would be replayed onto the restored file: it goes first.
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    ANSHIN_RETURN_IF_ERROR(RemoveIfPresent(o.database.string() + suffix));
  }
  ANSHIN_RETURN_IF_ERROR(image.Commit(o.database));
  return s;
}

}  // namespace anshin::store

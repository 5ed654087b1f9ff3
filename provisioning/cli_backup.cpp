// anshin-admin backup [--key-file K] --out FILE | backup keygen --out K |
// restore --from FILE [--key-file K] [--force].
//
// The database is the home's anshin.db. backup works while anshin-server runs (store/sqlite/
// backup.hpp); restore takes the lock anshin-server holds, so it refuses while one runs.
// Key material is never printed.
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "common/sys/instance_lock.hpp"
#include "common/sys/sys.hpp"
#include "provisioning/cli.hpp"
#include "store/sqlite/backup.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace anshin::admin {
namespace {

namespace fs = std::filesystem;

struct BackupCliOptions {
  std::string out;
  std::string from;
  std::string key_file;
  std::string keygen_out;
  bool force = false;
};

fs::path DatabaseOf(const Cli& cli) { return fs::path(cli.home()) / "anshin.db"; }

// "12.3 MB", "840 kB", "512 bytes" (decimal units, as disks are sold).
std::string HumanSize(std::uint64_t bytes) {
  if (bytes < 1000) return std::to_string(bytes) + " bytes";
  static constexpr const char* kUnits[] = {"kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes) / 1000;
  int unit = 0;
  while (v >= 1000 && unit < 3) {
    v /= 1000;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 100 ? "%.1f %s" : "%.0f %s", v, kUnits[unit]);
  return buf;
}

// 1234567 -> "1,234,567".
std::string Grouped(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string Describe(const store::BackupSummary& s) {
  return "(" + HumanSize(s.file_bytes) + ", schema v" + std::to_string(s.schema_version) + ", " +
         Grouped(s.taps) + (s.taps == 1 ? " tap)" : " taps)") +
         (s.encrypted ? ", encrypted" : ", not encrypted");
}

Result<std::optional<store::BackupKey>> LoadKey(const std::string& key_file) {
  if (key_file.empty()) return std::optional<store::BackupKey>();
  ANSHIN_ASSIGN_OR_RETURN(std::string text, sys::ReadFile(key_file));
  Result<store::BackupKey> key = store::BackupKey::Parse(text);
  if (!key.ok()) return key.status().WithContext("--key-file " + key_file);
  return std::optional<store::BackupKey>(*key);
}

// Creates the key file (never replacing one: a lost key loses every backup made with it).
Status WriteNewKeyFile(const fs::path& path, const store::BackupKey& key) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Status::AlreadyExists(path.string() +
                                   " exists: a key is never replaced (the backups made with it "
                                   "need it); choose another name");
    }
    return Status::Unavailable("creating " + path.string() + ": " + std::strerror(errno));
  }
  const std::string text = key.FileText();
  const bool ok = ::fchmod(fd, 0600) == 0 &&
                  ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const std::string err = ok ? "" : std::strerror(errno);
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Status::Unavailable("writing " + path.string() + ": " + err);
  }
  return Status::Ok();
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// "35 ms", "2.4 s".
std::string FormatSeconds(double s) {
  char buf[32];
  if (s < 1) {
    std::snprintf(buf, sizeof buf, "%.0f ms", s * 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  }
  return buf;
}

void RunBackup(Cli& cli, const BackupCliOptions& o) {
  if (o.out.empty()) return cli.Run(Status::InvalidArgument("backup: --out FILE is required"));
  auto key = LoadKey(o.key_file);
  if (!key.ok()) return cli.Run(key.status());
  const auto start = std::chrono::steady_clock::now();
  auto s = store::BackupSqliteDatabase(
      store::BackupOptions{.database = DatabaseOf(cli), .out = o.out, .key = *key});
  if (!s.ok()) return cli.Run(s.status().WithContext("backup"));
  cli.out() << "backup written: " << o.out << " " << Describe(*s) << ", in "
            << FormatSeconds(SecondsSince(start)) << "\n";
}

// The restored database and its lock file belong to whoever runs restore: run by another user
// (root, say) than the one owning the home, the server could open neither.
Status CheckRunByHomeOwner(const fs::path& home) {
  struct stat st {};
  if (::stat(home.c_str(), &st) != 0 || st.st_uid == ::geteuid()) return Status::Ok();
  const passwd* owner = ::getpwuid(st.st_uid);
  const std::string name = owner != nullptr ? owner->pw_name : std::to_string(st.st_uid);
  return Status::FailedPrecondition(
      home.string() + " belongs to " + name + ": restore as that user (runuser -u " + name +
      " -- anshin-admin ...), or the server cannot open the files restore writes");
}

void RunRestore(Cli& cli, const BackupCliOptions& o) {
  auto key = LoadKey(o.key_file);
  if (!key.ok()) return cli.Run(key.status());
  const fs::path database = DatabaseOf(cli);
  if (Status s = CheckRunByHomeOwner(database.parent_path()); !s.ok()) {
    return cli.Run(s.WithContext("restore"));
  }
  std::error_code ec;
  fs::create_directories(database.parent_path(), ec);
  if (ec) {
    return cli.Run(
        Status::Unavailable("creating " + database.parent_path().string() + ": " + ec.message()));
  }
  // The lock anshin-server holds while it runs: a running server's database is never replaced.
  auto lock = sys::InstanceLock::Acquire(
      sys::InstanceLock::ForDatabase(database),
      "the database " + database.string() + " (is anshin-server running?)");
  if (!lock.ok()) return cli.Run(lock.status().WithContext("restore"));
  auto s = store::RestoreSqliteDatabase(
      store::RestoreOptions{.from = o.from, .database = database, .key = *key, .force = o.force},
      *lock);
  if (!s.ok()) return cli.Run(s.status().WithContext("restore"));
  cli.out() << "restored: " << database.string() << " from " << o.from << " " << Describe(*s);
  if (s->schema_version < store::LatestSchemaVersion()) {
    cli.out() << "; anshin-server migrates it to schema v" << store::LatestSchemaVersion()
              << " when it starts";
  }
  cli.out() << "\n";
}

}  // namespace

void AddBackupCommands(Cli& cli) {
  auto& o = cli.Keep<BackupCliOptions>();
  auto* backup = cli.app().add_subcommand(
      "backup", "copy the database to a file, consistent while anshin-server runs");
  backup->add_option("--out", o.out, "the backup file to write (replaced atomically)");
  backup->add_option("--key-file", o.key_file,
                     "encrypt with this key (anshin-admin backup keygen makes one)");
  backup->require_subcommand(0, 1);
  auto* keygen =
      backup->add_subcommand("keygen", "make a key file for encrypted backups (0600, 32 bytes)");
  keygen->add_option("--out", o.keygen_out, "the key file to create")->required();
  keygen->callback([&cli, &o] {
    Status s = WriteNewKeyFile(o.keygen_out, store::BackupKey::Generate());
    cli.Run(s);
    if (s.ok()) {
      cli.out() << "backup key written: " << o.keygen_out
                << " (keep a copy apart from the backups: without it they cannot be restored)\n";
    }
  });
  backup->callback([&cli, &o, keygen] {
    if (keygen->parsed()) return;
    RunBackup(cli, o);
  });

  auto* restore = cli.app().add_subcommand(
      "restore", "replace the home's database by a backup (anshin-server must be stopped)");
  restore->add_option("--from", o.from, "the backup file")->required();
  restore->add_option("--key-file", o.key_file, "the key the backup was encrypted with");
  restore->add_flag("--force", o.force, "replace an existing database");
  restore->callback([&cli, &o] { RunRestore(cli, o); });
}

}  // namespace anshin::admin

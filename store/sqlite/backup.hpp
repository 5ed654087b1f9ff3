// Backup and restore of the SQLite store's database file (anshin-admin backup / restore).
//
// BackupSqliteDatabase copies the database with SQLite's online backup API, reading only, in
// one step: the copy is one read transaction, so it is a consistent snapshot
// even while anshin-server writes (WAL lets the server go on committing meanwhile; a copy in
// several steps would restart on every commit of another process and might never finish).
// The image is written to a temporary file in the target folder (0600), switched to the
// rollback journal so it opens anywhere, fsynced and renamed over `out`, and the folder is
// fsynced. Encrypted (backup_file.hpp), the plain image is staged next to the database (the
// only place the plaintext already is, never the backup folder), sealed into the temporary
// file in the target folder, and removed.
//
// RestoreSqliteDatabase writes the backup's image (decrypted if need be) to a temporary file
// next to the database, checks it (PRAGMA integrity_check; a schema_version no newer than this
// build's), then removes the database's stale -wal, -shm and -journal files and renames the
// image over the database. It refuses to replace an existing database unless `force`. The
// caller proves that no server runs on the database by holding its InstanceLock (the lock
// anshin-server holds for its whole life).
//
// Every failure is a Status naming the file and what went wrong; nothing is logged. Temporary
// files are removed on every path out. Not thread-safe with itself on the same files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "common/status.hpp"
#include "common/sys/instance_lock.hpp"
#include "store/sqlite/backup_file.hpp"

namespace anshin::store {

// What a backup holds, read from the copied image itself.
struct BackupSummary {
  std::uint64_t file_bytes = 0;  // the backup file's size (encrypted: the sealed size)
  int schema_version = 0;
  std::int64_t taps = 0;
  bool encrypted = false;
};

struct BackupOptions {
  std::filesystem::path database;  // the live database
  std::filesystem::path out;       // the backup file (replaced atomically when it exists)
  std::optional<BackupKey> key;    // encrypt with this key
};
Result<BackupSummary> BackupSqliteDatabase(const BackupOptions& options);

struct RestoreOptions {
  std::filesystem::path from;      // a backup file, plain or encrypted
  std::filesystem::path database;  // the database to create or replace
  std::optional<BackupKey> key;    // needed when the backup is encrypted
  bool force = false;              // replace an existing database
};
// `held` must be InstanceLock::ForDatabase(options.database), acquired by the caller.
Result<BackupSummary> RestoreSqliteDatabase(const RestoreOptions& options,
                                            const sys::InstanceLock& held);

}  // namespace anshin::store

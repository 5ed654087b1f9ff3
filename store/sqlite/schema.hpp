// The SQLite schema as ordered migrations (docs/schema.md explains every table and column).
// A migration is never edited once released: changes are new entries at the end.
#pragma once

#include <span>

#include "common/sqlite/sqlite.hpp"
#include "common/status.hpp"

namespace anshin::store::sqlite_impl {

struct Migration {
  int version;
  const char* sql;
  // The migration rebuilds a table other tables refer to (to change a CHECK): it runs with
  // foreign keys off, as SQLite's procedure for altering a table says, and the references are
  // checked (PRAGMA foreign_key_check) before it commits.
  bool rebuilds_referenced_table = false;
};

std::span<const Migration> SqliteMigrations();

// Creates schema_version when missing and applies the migrations not yet recorded there, up to
// and including `through`, each in its own transaction with its schema_version row.
// SqliteStore::Open applies them all; the upgrade test (tests/store/upgrade_test.cpp) builds
// the database of each earlier release by stopping at its version.
Status ApplyMigrationsThrough(sqlite::Db& db, int through);

}  // namespace anshin::store::sqlite_impl

// The SQLite schema as ordered migrations (docs/schema.md explains every table and column).
// A migration is never edited once released: changes are new entries at the end.
#pragma once

#include <span>

namespace anshin::store::sqlite_impl {

struct Migration {
  int version;
  const char* sql;
};

std::span<const Migration> SqliteMigrations();

}  // namespace anshin::store::sqlite_impl

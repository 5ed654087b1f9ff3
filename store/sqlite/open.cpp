#include "store/open.hpp"

#include "store/sqlite/sqlite_store.hpp"

namespace anshin::store {

Result<std::unique_ptr<Store>> OpenStore(const OpenOptions& options) {
  SqliteOptions so;
  so.path = options.database;
  so.synchronous = options.synchronous_full ? sqlite::SyncMode::kFull : sqlite::SyncMode::kNormal;
  so.readers = options.readers;
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> s, SqliteStore::Open(so));
  return std::unique_ptr<Store>(std::move(s));
}

}  // namespace anshin::store

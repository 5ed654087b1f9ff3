// The Store implementations the contract suite runs against. A new implementation passes the
// same tests by adding its factory to ANSHIN_STORE_FACTORIES (one line).
//
// A factory makes a fresh, empty, migrated store that lives in `dir` (or elsewhere, cleaned up
// by the factory's destructor) and can reopen it, as a restart would.
#pragma once

#include <memory>

#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::store::contract {

struct SqliteFactory {
  static constexpr const char* kName = "sqlite";
  fakes::TempDir dir{"store-contract"};
  std::unique_ptr<Store> Open() {
    SqliteOptions o;
    o.path = dir / "anshin.db";
    o.readers = 3;
    return SqliteStore::Open(o).value();
  }
};

#define ANSHIN_STORE_FACTORIES SqliteFactory

}  // namespace anshin::store::contract

// OpenStore: the one place that picks a Store implementation from configuration, so that the
// binaries (anshin-server, anshin-admin) see only the Store interface. Today the embedded
// SQLite store; a PostgreSQL store joins here.
#pragma once

#include <filesystem>
#include <memory>

#include "common/status.hpp"
#include "store/store.hpp"

namespace anshin::store {

struct OpenOptions {
  std::filesystem::path database;  // the SQLite file (created and migrated when missing)
  bool synchronous_full = true;    // fsync every commit (off only for benchmarks)
  int readers = 4;                 // concurrent read transactions
};

Result<std::unique_ptr<Store>> OpenStore(const OpenOptions& options);

}  // namespace anshin::store

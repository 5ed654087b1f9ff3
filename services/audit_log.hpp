// The audit log's hash chain (DESIGN.md §7): every change, and every view of a child's data, is
// one append-only row whose hash covers the previous row's hash, so a row edited or removed
// afterwards breaks the chain from that row on.
//
//   hash = hex SHA-256(prev_hash "\n" at_ms "\n" actor "\n" action "\n" detail)
//
// with prev_hash = 64 zeros for the first row. `detail` carries IDs and tokens, never names or
// addresses. Appending happens inside the caller's write transaction, so a change and its audit
// row commit together or not at all. Pure functions over the store; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.hpp"
#include "store/store.hpp"

namespace anshin::services {

inline constexpr std::string_view kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

std::string AuditHash(std::string_view prev_hash, TimePoint at, std::string_view actor,
                      std::string_view action, std::string_view detail);

Status AppendAudit(store::WriteTxn& txn, const store::Actor& who, std::string_view action,
                   std::string_view detail);

// Recomputes the chain; Internal naming the first row that does not match.
Status VerifyAuditChain(store::ReadTxn& txn);

}  // namespace anshin::services

// AgentStore: the agent's durable state in one SQLite database (docs/agent.md lists the schema).
//
//  - the tap queue: every accepted tap is committed with its sequence number before the child
//    gets the "accepted" feedback; rows leave the queue only when the server has acknowledged
//    them. Sequence numbers come from a stored counter, so they survive restarts and are never
//    reused, even after the queue has been emptied;
//  - the allowlist (card tokens of active cards) and its version;
//  - health and status values (reader state, last errors, counters) that `anshin-agent status`
//    reads from another process while the agent runs.
//
// The database runs in WAL mode with synchronous=FULL: a commit that returned survives a power
// cut or kill -9. The file is created 0600 whatever the umask. All statements are prepared
// once (common/sqlite, the adapter the server's store uses too, with the same error mapping:
// a busy or failing disk is Unavailable). Thread-safe: one connection guarded by a mutex
// (writes are short; the network is never touched while the lock is held).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/sqlite/sqlite.hpp"
#include "common/status.hpp"
#include "common/time.hpp"
#include "common/types.hpp"
#include "common/wire.hpp"

namespace anshin::agent {

// Keys of the values kept in the `meta` table (text unless noted).
namespace meta {
inline constexpr char kLastSeq[] = "last_seq";                         // integer
inline constexpr char kAllowlistVersion[] = "allowlist_version";       // integer
inline constexpr char kAllowlistFetchedAt[] = "allowlist_fetched_at";  // unix ms
inline constexpr char kReaderState[] = "reader_state";
inline constexpr char kReaderError[] = "reader_error";
inline constexpr char kReaderDevice[] = "reader_device";
inline constexpr char kLastError[] = "last_error";
inline constexpr char kLastErrorAt[] = "last_error_at";          // unix ms
inline constexpr char kLastUploadOkAt[] = "last_upload_ok_at";   // unix ms
inline constexpr char kLastContactAt[] = "last_contact_at";      // unix ms
inline constexpr char kLastHeartbeatAt[] = "last_heartbeat_at";  // unix ms, last attempt
inline constexpr char kLastUploadError[] = "last_upload_error";
inline constexpr char kRejectedBatches[] = "rejected_batches";  // integer
inline constexpr char kUnknownTaps[] = "unknown_taps";          // integer
// Taps the server acknowledged but set aside unjudged (TapAck::rejected: a tap time that cannot
// be true), and the last one's answer ("seq 42 taps[0].at: …") with when it came.
inline constexpr char kRejectedTaps[] = "rejected_taps";  // integer
inline constexpr char kLastRejectedTap[] = "last_rejected_tap";
inline constexpr char kLastRejectedTapAt[] = "last_rejected_tap_at";  // unix ms
inline constexpr char kAgentPid[] = "agent_pid";                      // integer
inline constexpr char kAgentStartedAt[] = "agent_started_at";         // unix ms
}  // namespace meta

struct QueueStats {
  std::uint64_t depth = 0;
  std::optional<TimePoint> oldest_at;
  std::optional<std::uint64_t> first_seq;
};

class AgentStore {
 public:
  // Opens (and for kCreate, creates) the database and its schema.
  enum class Mode { kCreate, kExisting };
  static Result<std::unique_ptr<AgentStore>> Open(const std::filesystem::path& path,
                                                  Mode mode = Mode::kCreate);
  ~AgentStore();
  AgentStore(const AgentStore&) = delete;
  AgentStore& operator=(const AgentStore&) = delete;

  // Commits one tap with the next sequence number and returns that number.
  Result<std::uint64_t> AppendTap(const CardToken& card, TimePoint at, const std::string& reader,
                                  Direction direction);
  // Up to `limit` queued taps, ascending seq.
  Result<std::vector<wire::Tap>> PendingTaps(std::size_t limit);
  // Deletes every queued tap with seq <= `acked_through`; returns how many went.
  Result<std::uint64_t> DeleteThrough(std::uint64_t acked_through);
  Result<QueueStats> Queue();
  Result<std::uint64_t> LastSeq();

  // The allowlist: whole token set and version. `fetched` is false until the first fetch.
  struct Allowlist {
    std::uint64_t version = 0;
    bool fetched = false;
    std::vector<CardToken> tokens;
    std::vector<CardToken> lost;  // of tokens, the cards reported lost
  };
  Result<Allowlist> LoadAllowlist();
  // Applies a delta (or a full list) in one transaction; records `now` as the fetch time.
  Status ApplyAllowlist(const wire::AllowlistDelta& delta, TimePoint now);

  // Health and status values.
  Status SetText(const std::string& key, const std::string& value);
  Status SetInt(const std::string& key, std::int64_t value);
  Result<std::int64_t> Increment(const std::string& key);
  Result<std::optional<std::string>> GetText(const std::string& key);
  Result<std::optional<std::int64_t>> GetInt(const std::string& key);

 private:
  explicit AgentStore(std::unique_ptr<sqlite::Db> db);
  Status SetValueLocked(std::string_view key, const std::string* text, std::int64_t number);

  std::mutex mu_;
  std::unique_ptr<sqlite::Db> db_;  // guarded by mu_
};

}  // namespace anshin::agent

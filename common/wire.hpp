// Protocol v1 between reader-agent and notify-server (DESIGN.md §5, docs/protocol.md):
// the JSON bodies as value types, with strict parsers whose errors name the offending field
// ("taps[3].at: not an RFC 3339 time ..."). Pure; no I/O.
//
// Every body must be exactly one JSON object: nothing may follow it (not even a NUL byte), no
// object may hold a key twice ("body: duplicate key \"seq\" at taps[0].seq"), nesting is at
// most kMaxJsonDepth, and every integer is at most kMaxInteger.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/engine.hpp"
#include "common/status.hpp"
#include "common/time.hpp"

namespace anshin::wire {

inline constexpr std::size_t kMaxBodyBytes = 1 << 20;  // 1 MiB per request body
inline constexpr std::size_t kMaxTapsPerBatch = 5000;
inline constexpr std::size_t kMaxReaderNameBytes = 64;
inline constexpr std::size_t kMaxAgentNameBytes = 64;
// Every integer of the protocol (seq, since, versions, health figures) is at most 2^53 - 1: the
// store keeps them as SQLite INTEGER (int64), and every JSON implementation (JavaScript's
// doubles included) reads such an integer exactly. Larger values are refused (400 naming the
// field) rather than wrapped.
inline constexpr std::uint64_t kMaxInteger = (std::uint64_t{1} << 53) - 1;
// Objects and arrays nest at most this deep in a body (the real documents nest 3 levels).
inline constexpr int kMaxJsonDepth = 16;

struct Tap {
  std::uint64_t seq = 0;  // > 0, increasing per agent; (agent, seq) is the idempotency key
  CardToken card;
  TimePoint at;  // agent clock
  std::string reader;
  Direction direction = Direction::kAuto;
  friend bool operator==(const Tap&, const Tap&) = default;
};

// The agent's self-report, sent with every upload. All fields optional on the wire.
struct Health {
  std::string reader_state;  // "ok" | "error" | "absent" | ...
  std::string reader_error;  // libnfc's last message, if any
  std::uint64_t queue_depth = 0;
  std::optional<std::int64_t> oldest_unsent_s;
  std::string agent_version;
  std::optional<TimePoint> local_clock;
  std::uint64_t unknown_taps = 0;      // taps of cards not in the allowlist since start
  std::uint64_t rejected_batches = 0;  // batches the server refused with 4xx
  std::uint64_t rejected_taps = 0;     // taps the server set aside unjudged (TapAck::rejected)
  std::string last_upload_error;
  friend bool operator==(const Health&, const Health&) = default;
};

struct TapBatch {
  std::string agent;
  TimePoint sent_at;
  std::vector<Tap> taps;  // ascending seq, no repeats
  std::optional<Health> health;
};

struct SeqGap {
  std::uint64_t from = 0;  // first missing seq
  std::uint64_t to = 0;    // last missing seq
  friend bool operator==(const SeqGap&, const SeqGap&) = default;
};

// A tap the server stored but set aside without judging it: its time cannot be true (before
// the agent could have taken it, after the upload arrived, or read from a clock days off). It
// is acknowledged like any other (the agent drops it from its queue), is never mailed, and
// stays in the server's store for staff. One answer per tap, as a 400 would name a field.
struct RejectedTap {
  std::uint64_t seq = 0;
  std::string field;  // "taps[2].at", or "sent_at" when the agent's clock is what is wrong
  std::string error;  // "taps[2].at: 2026-12-03T08:40:00Z is 23 h after the upload arrived ..."
  friend bool operator==(const RejectedTap&, const RejectedTap&) = default;
};

struct TapAck {
  std::uint64_t acked_through = 0;  // every seq <= this is committed
  std::uint64_t allowlist_version = 0;
  TimePoint server_time;
  std::optional<SeqGap> gap;          // the server holds taps after a missing range
  std::vector<RejectedTap> rejected;  // taps of this upload set aside unjudged, ascending seq
};

struct AllowlistDelta {
  std::uint64_t version = 0;
  bool full = false;  // true: `added` is the whole list; drop what you had
  std::vector<CardToken> added;
  std::vector<CardToken> removed;
  // Of `added`, the cards reported lost: still listed (their taps must reach the server to
  // raise the alert), but the reader asks the child to see staff. A token in `added` and not
  // here is not lost (any more). Absent on the wire from servers before schema 4: none lost.
  std::vector<CardToken> lost;
};

Result<TapBatch> ParseTapBatch(std::string_view json);
std::string Serialize(const TapBatch& b);

Result<TapAck> ParseTapAck(std::string_view json);
std::string Serialize(const TapAck& a);

Result<AllowlistDelta> ParseAllowlistDelta(std::string_view json);
std::string Serialize(const AllowlistDelta& d);

std::string Serialize(const Health& h);
Result<Health> ParseHealth(std::string_view json);

// Builds the error body {"error": "...", "field": "...", "status": "..."} for a failed Status;
// InvalidArgument, TooLarge and Conflict messages of the form "field: reason" fill "field".
std::string ErrorJson(const Status& s);
// The body of an error whose text must not reach the client (internal, store-originated):
// {"error": <public_message>, "status": "...", "error_id": <error_id>}; the server logs the
// full text under the same id.
std::string OpaqueErrorJson(Status::Code code, std::string_view public_message,
                            std::string_view error_id);

}  // namespace anshin::wire

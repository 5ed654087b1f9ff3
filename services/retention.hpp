// Retention (DESIGN.md §6): what the deployment keeps and for how long.
//
//   taps, child_days (visits), outbox rows and their send_log entries older than `months`
//     (default 13: a full school year and the month after, for the ward's yearly figures) are
//     deleted. A tap's age is its judged time, a day's its date, a send attempt's its time, an
//     outbox row's its creation (only rows that are sent or failed and have no send_log entry
//     left; a row still to be sent is never deleted).
//   children withdrawn longer than `withdrawn_grace_days` (default 90) lose their personal data:
//     name and kana become '', their guardians are deleted with the guardians' outbox rows and
//     send history, any card still listed is retired, purged_at is set. The child number is
//     kept: it is the ward's own reference, not a name or address, and the ward's reports of
//     the retention period still name the row by it. Cards are kept (tokens are no personal
//     data).
//   the agents' clock-skew samples older than kSkewHistoryDays (90) are deleted (a fixed
//     window: they are the skew graph, no attendance record).
//   the audit log is append-only and never purged (it holds IDs and tokens only).
//
// Deletion runs in batches of `batch` rows, one short write transaction each, so the server's
// single writer is never held long. A dry run does the same work in one transaction that is
// rolled back and reports what would go. A real run is audited "purge" with the counts.
// Thread-safe; blocks on the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.hpp"
#include "common/time.hpp"
#include "services/facilities.hpp"
#include "store/store.hpp"

namespace anshin::services {

// The server.toml keys of the policy (anshin-server and `anshin-admin purge` read the same).
inline constexpr std::string_view kRetentionMonthsKey = "retention.months";
inline constexpr std::string_view kRetentionGraceKey = "retention.withdrawn_grace_days";

// How long the agents' clock-skew history is kept.
inline constexpr int kSkewHistoryDays = 90;

struct RetentionPolicy {
  int months = 13;
  int withdrawn_grace_days = 90;
  int batch = 5000;  // rows per transaction
};

Status CheckRetentionPolicy(const RetentionPolicy& p);

// What is older than the retention at `now`: taps, attempts and mail before `before`, days
// dated before `before_date` (`now`'s date in `zone`, `months` earlier, at its start), children
// withdrawn before `withdrawn_before`.
struct PurgeCutoffs {
  LocalDate before_date;
  TimePoint before;
  TimePoint withdrawn_before;
};
PurgeCutoffs CutoffsAt(const RetentionPolicy& p, TimePoint now, const TimeZone& zone);

struct PurgeCounts {
  std::int64_t taps = 0;
  std::int64_t child_days = 0;
  std::int64_t outbox = 0;
  std::int64_t send_log = 0;
  std::int64_t children = 0;  // withdrawn children whose personal data was removed
  std::int64_t guardians = 0;
  std::int64_t cards_retired = 0;
  std::int64_t skew_samples = 0;  // agents' clock-skew samples older than kSkewHistoryDays
};

// "12034 taps, 5100 visits, 800 mails, 812 send attempts, 96 skew samples deleted; 40
// withdrawn children purged (61 guardians deleted, 0 cards retired)".
std::string PurgeCountsText(const PurgeCounts& c);

Result<PurgeCounts> Purge(store::Store& store, const RetentionPolicy& policy, TimePoint now,
                          const TimeZone& zone, bool dry_run, const store::Actor& who);

// The server's daily purge: once per local date in `zone`, from `from` (local time) on,
// recorded in job_runs as job "purge", period = the date, once it succeeded. nullopt when it
// was not due or had run already.
inline constexpr LocalTime kDailyPurgeTime = LocalTime::HM(3, 0);
Result<std::optional<PurgeCounts>> PurgeIfDue(store::Store& store, const RetentionPolicy& policy,
                                              TimePoint now, const TimeZone& zone,
                                              LocalTime from = kDailyPurgeTime);

// PurgeIfDue in the deployment's zone: the first facility's (a ward's facilities share one),
// Asia/Tokyo while there is none. anshin-server calls it every minute.
Result<std::optional<PurgeCounts>> DailyPurge(store::Store& store, const RetentionPolicy& policy,
                                              TimePoint now, const ZoneLoader& zones);

}  // namespace anshin::services

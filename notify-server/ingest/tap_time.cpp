#include "notify-server/ingest/tap_time.hpp"

#include <fmt/format.h>

namespace anshin::ingest {

std::string HumanDuration(Millis d) {
  using namespace std::chrono;
  const auto abs = d < Millis(0) ? -d : d;
  const auto s = duration_cast<seconds>(abs).count();
  if (abs >= days(2)) return fmt::format("{} days", s / 86400);
  if (abs >= hours(1)) return fmt::format("{} h {} min", s / 3600, s % 3600 / 60);
  if (abs >= minutes(1)) return fmt::format("{} min {} s", s / 60, s % 60);
  return fmt::format("{} s", s);
}

std::optional<std::string> SkewProblem(Millis skew, const TapTimeBounds& bounds) {
  if (skew <= bounds.max_skew && skew >= -bounds.max_skew) return std::nullopt;
  return fmt::format(
      "sent_at: the agent's clock is {} {} the server's (at most {} is corrected); none of this "
      "upload's tap times can be trusted: set the PC's clock",
      HumanDuration(skew), skew > Millis(0) ? "ahead of" : "behind",
      HumanDuration(bounds.max_skew));
}

std::optional<std::string> TapTimeProblem(const std::string& field, TimePoint at, Millis skew,
                                          TimePoint received_at, const TapTimeBounds& bounds) {
  // In milliseconds since the epoch both fit easily: `at` was parsed from years 1..9999 and the
  // skew is bounded by SkewProblem before this is asked.
  const TimePoint corrected = at - skew;
  const Millis ahead = corrected - received_at;
  const std::string correction =
      skew == Millis(0) ? std::string()
                        : fmt::format(" (corrected by the agent's clock skew of {}{})",
                                      skew > Millis(0) ? "+" : "-", HumanDuration(skew));
  if (ahead > bounds.max_ahead) {
    return fmt::format("{}: {} is {} after the upload arrived{}; a tap cannot come from the future",
                       field, FormatRfc3339(at), HumanDuration(ahead), correction);
  }
  if (-ahead > bounds.max_age) {
    return fmt::format(
        "{}: {} is {} before the upload arrived{}; taps older than {} are not judged", field,
        FormatRfc3339(at), HumanDuration(ahead), correction, HumanDuration(bounds.max_age));
  }
  return std::nullopt;
}

}  // namespace anshin::ingest

// The agents' clock-skew history (agent_skew_samples, docs/schema.md): every upload measures the
// agent's skew (sent_at − receipt); ingest keeps a sample of it when the agent's last sample is
// at least kSkewSampleInterval old or the skew moved by more than kSkewSampleChange since, so a
// PC uploading every few seconds adds at most a few rows an hour while a clock that jumps is
// recorded at once. The daily purge deletes samples older than services::kSkewHistoryDays.
// `anshin-admin agent skew` lists them; the clock-skew alert (alert_checks.hpp) reads the
// agent's latest skew, not this history. Pure function.
#pragma once

#include <chrono>
#include <optional>

#include "store/records.hpp"

namespace anshin::ingest {

inline constexpr std::chrono::minutes kSkewSampleInterval{10};
inline constexpr Millis kSkewSampleChange{1000};

// Whether `now` is to be recorded after the agent's `last` sample (nullopt: none yet).
bool SkewSampleDue(const std::optional<store::SkewSample>& last, const store::SkewSample& now);

}  // namespace anshin::ingest

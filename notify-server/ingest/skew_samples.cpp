#include "notify-server/ingest/skew_samples.hpp"

namespace anshin::ingest {

bool SkewSampleDue(const std::optional<store::SkewSample>& last, const store::SkewSample& now) {
  if (!last) return true;
  if (now.at - last->at >= kSkewSampleInterval) return true;
  const std::int64_t change = now.skew_ms - last->skew_ms;
  return change > kSkewSampleChange.count() || change < -kSkewSampleChange.count();
}

}  // namespace anshin::ingest

#include "reader-agent/tap_detector.hpp"

namespace anshin::agent {

std::optional<Idm> TapDetector::Sample(const std::optional<Idm>& card, TimePoint now) {
  if (card == present_) return std::nullopt;  // still resting, or still nothing
  if (present_) {  // the previous card left the field (perhaps replaced by another one)
    last_removed_ = present_;
    removed_at_ = now;
  }
  present_ = card;
  if (!card) return std::nullopt;
  if (last_removed_ == card && now - removed_at_ < debounce_) return std::nullopt;  // flapping
  return card;
}

}  // namespace anshin::agent

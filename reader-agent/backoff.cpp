#include "reader-agent/backoff.hpp"

#include <algorithm>

namespace anshin::agent {

Backoff::Backoff(Millis min, Millis max, std::uint64_t seed)
    : min_(std::max(min, Millis(1))), max_(std::max(max, min_)), rng_(seed) {}

Millis Backoff::Next() {
  base_ = base_ == Millis(0) ? min_ : std::min(base_ * 2, max_);
  ++failures_;
  std::uniform_int_distribution<std::int64_t> jitter(base_.count() / 2, base_.count());
  return Millis(std::max<std::int64_t>(jitter(rng_), 1));
}

}  // namespace anshin::agent

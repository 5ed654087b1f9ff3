// Backoff: exponential delays with jitter between retries of something that keeps failing
// (opening the reader, reaching the server).
//
// Each failure doubles a base delay from `min` up to `max`; the delay handed out is drawn
// uniformly from [base/2, base] so that many agents recovering from one outage do not retry in
// lockstep. Reset() after a success. The random source is seeded by the caller, so tests are
// deterministic. Not thread-safe.
#pragma once

#include <cstdint>
#include <random>

#include "common/time.hpp"

namespace anshin::agent {

class Backoff {
 public:
  Backoff(Millis min, Millis max, std::uint64_t seed);

  // The delay to wait before the next attempt; grows with each call until Reset().
  Millis Next();
  void Reset() {
    base_ = Millis(0);
    failures_ = 0;
  }
  // The number of Next() calls since the last Reset().
  int failures() const { return failures_; }

 private:
  Millis min_;
  Millis max_;
  Millis base_{0};
  int failures_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace anshin::agent

// FakeClock: a Clock whose time moves only when a test says so. Thread-safe.
#pragma once

#include <mutex>

#include "common/time.hpp"

namespace anshin::fakes {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint{}) : now_(start) {}

  TimePoint Now() const override {
    std::lock_guard lock(mu_);
    ++reads_;
    return now_;
  }
  void Set(TimePoint t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }
  void Advance(Millis d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }
  // How many times Now() was read (tests that assert the clock is the only source of time).
  int reads() const {
    std::lock_guard lock(mu_);
    return reads_;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_;
  mutable int reads_ = 0;
};

}  // namespace anshin::fakes

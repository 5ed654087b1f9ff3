// StopSignal: a flag that ends the agent's loops, and interruptible waits on it.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <mutex>

#include "common/time.hpp"

namespace anshin::agent {

class StopSignal {
 public:
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
  }
  bool stopped() const {
    std::lock_guard lock(mu_);
    return stopped_;
  }
  // Waits for `d` or until stopped; returns false when stopped.
  bool WaitFor(Millis d) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return stopped_; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

}  // namespace anshin::agent

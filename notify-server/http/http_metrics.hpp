// HttpMetrics: counters of the network layer, rendered in the Prometheus text format.
//
// Request counts by route and status, a request latency histogram by route, open and refused
// connections, and TLS handshakes (full, resumed, failed). Updated from the network thread and
// read by /metrics; a mutex makes it safe to read or update from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "common/time.hpp"

namespace anshin::server {

class HttpMetrics {
 public:
  // Upper bounds of the latency buckets, in seconds (plus +Inf).
  static constexpr std::array<double, 13> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,    1,     2.5,  5,     10};

  void RequestDone(const std::string& route, int status, std::chrono::nanoseconds latency);
  void ConnectionOpened();
  void ConnectionClosed();
  // Closed at accept: over a limit of its listener's budget ("per_address" or "full").
  void ConnectionRefused(const std::string& listener, const std::string& reason);
  // An older connection closed to make room (connection_budget.hpp).
  void ConnectionEvicted(const std::string& listener);
  void Handshake(bool resumed);
  void HandshakeFailed();

  std::int64_t open_connections() const;
  std::uint64_t handshakes(bool resumed) const;

  std::string Text() const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> counts{};  // per bucket (not cumulative)
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;            // GUARDED_BY(mu_)
  std::map<std::string, Histogram> latency_;                                 // GUARDED_BY(mu_)
  std::int64_t open_ = 0;                                                    // GUARDED_BY(mu_)
  std::uint64_t accepted_ = 0;                                               // GUARDED_BY(mu_)
  std::uint64_t refused_ = 0;                                                // GUARDED_BY(mu_)
  std::map<std::pair<std::string, std::string>, std::uint64_t> refused_by_;  // GUARDED_BY(mu_)
  std::map<std::string, std::uint64_t> evicted_;                             // GUARDED_BY(mu_)
  std::uint64_t full_handshakes_ = 0;                                        // GUARDED_BY(mu_)
  std::uint64_t resumed_handshakes_ = 0;                                     // GUARDED_BY(mu_)
  std::uint64_t failed_handshakes_ = 0;                                      // GUARDED_BY(mu_)
};

}  // namespace anshin::server

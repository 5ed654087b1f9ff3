// IngestMetrics: the counters the ingest path keeps for /metrics. Updated by the writer thread
// after each commit, read by any thread (relaxed atomics: figures, not synchronization).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "common/engine.hpp"

namespace anshin::ingest {

// A Prometheus histogram of counts with fixed upper bounds; lock-free.
class CountHistogram {
 public:
  static constexpr std::size_t kBuckets = 10;
  explicit CountHistogram(std::array<std::uint64_t, kBuckets> bounds) : bounds_(bounds) {}
  void Observe(std::uint64_t v);
  void AppendText(std::string& out, const char* name, const char* help) const;

 private:
  const std::array<std::uint64_t, kBuckets> bounds_;
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};  // cumulative: v <= bounds_[i]
  std::atomic<std::uint64_t> count_{0}, sum_{0};
};

struct IngestMetrics {
  std::atomic<std::uint64_t> taps_received{0}, taps_resent{0}, batches_ok{0}, batches_refused{0},
      seq_conflicts{0}, commits{0}, commit_failures{0}, outbox_rows{0};
  std::array<std::atomic<std::uint64_t>, kReasonNames.size()> by_reason{};
  CountHistogram commit_batches{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512}};
  CountHistogram upload_taps{{1, 2, 5, 10, 20, 50, 100, 500, 1000, 5000}};

  // Prometheus text of every figure above; `queue_depth` and `agents_seen` are gauges the
  // caller reads from its own state.
  std::string Text(std::size_t queue_depth, std::size_t agents_seen) const;
};

}  // namespace anshin::ingest

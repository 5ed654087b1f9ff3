#include "notify-server/ingest/ingest_metrics.hpp"

#include "notify-server/metrics_text.hpp"

namespace anshin::ingest {

void CountHistogram::Observe(std::uint64_t v) {
  for (std::size_t b = 0; b < bounds_.size(); ++b) {
    if (v <= bounds_[b]) buckets_[b].fetch_add(1, std::memory_order_relaxed);
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

void CountHistogram::AppendText(std::string& out, const char* name, const char* help) const {
  const std::string n = name;
  out += "# HELP " + n + ' ' + help + "\n# TYPE " + n + " histogram\n";
  for (std::size_t b = 0; b < bounds_.size(); ++b) {
    out += n + "_bucket{le=\"" + std::to_string(bounds_[b]) + "\"} " +
           std::to_string(buckets_[b].load()) + '\n';
  }
  const std::uint64_t count = count_.load();
  out += n + "_bucket{le=\"+Inf\"} " + std::to_string(count) + '\n';
  out += n + "_sum " + std::to_string(sum_.load()) + '\n';
  out += n + "_count " + std::to_string(count) + '\n';
}

std::string IngestMetrics::Text(std::size_t queue_depth, std::size_t agents_seen) const {
  std::string out;
  server::PrometheusText text(out);
  text.Counter("anshin_taps_received_total", "Taps in committed uploads, re-sent ones included.",
               taps_received.load());
  text.Counter("anshin_taps_resent_total",
               "Taps already stored under the same (agent, seq): acknowledged, not judged again.",
               taps_resent.load());
  text.Header("anshin_taps_judged_total",
              "Taps judged by the attendance engine, by decision reason.", "counter");
  for (std::size_t r = 0; r < kReasonNames.size(); ++r) {
    out += "anshin_taps_judged_total{reason=\"" + std::string(kReasonNames.entries()[r].second) +
           "\"} " + std::to_string(by_reason[r].load()) + '\n';
  }
  text.Counter("anshin_ingest_batches_total", "Uploads committed and acknowledged.",
               batches_ok.load());
  text.Counter("anshin_ingest_batches_refused_total",
               "Uploads refused (identity, conflict, store errors).", batches_refused.load());
  text.Counter("anshin_ingest_seq_conflicts_total",
               "Uploads refused (409) because a seq already stored for the agent came with another "
               "tap: the agent's queue was reset.",
               seq_conflicts.load());
  text.Counter("anshin_ingest_commits_total", "Group-commit transactions committed.",
               commits.load());
  text.Counter("anshin_ingest_commit_failures_total", "Group-commit transactions that failed.",
               commit_failures.load());
  text.Counter("anshin_outbox_queued_total", "Attendance mails queued by ingest.",
               outbox_rows.load());
  commit_batches.AppendText(out, "anshin_ingest_commit_batches",
                            "Uploads per group-commit transaction.");
  upload_taps.AppendText(out, "anshin_ingest_upload_taps", "Taps per committed upload.");
  text.Gauge("anshin_ingest_queue_depth", "Uploads waiting for the next group commit.",
             static_cast<std::uint64_t>(queue_depth));
  text.Gauge("anshin_agents_seen", "Distinct agents that uploaded since the server started.",
             static_cast<std::uint64_t>(agents_seen));
  return out;
}

}  // namespace anshin::ingest

#include "notify-server/http/http_metrics.hpp"

#include <fmt/format.h>

namespace anshin::server {

void HttpMetrics::RequestDone(const std::string& route, int status,
                              std::chrono::nanoseconds latency) {
  const double seconds = std::chrono::duration<double>(latency).count();
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  std::size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  if (i < kBuckets.size()) ++h.counts[i];
  ++h.count;
  h.sum += seconds;
}

void HttpMetrics::ConnectionOpened() {
  std::lock_guard lock(mu_);
  ++open_;
  ++accepted_;
}
void HttpMetrics::ConnectionClosed() {
  std::lock_guard lock(mu_);
  --open_;
}
void HttpMetrics::ConnectionRefused(const std::string& listener, const std::string& reason) {
  std::lock_guard lock(mu_);
  ++refused_;
  ++refused_by_[{listener, reason}];
}
void HttpMetrics::ConnectionEvicted(const std::string& listener) {
  std::lock_guard lock(mu_);
  ++evicted_[listener];
}
void HttpMetrics::Handshake(bool resumed) {
  std::lock_guard lock(mu_);
  ++(resumed ? resumed_handshakes_ : full_handshakes_);
}
void HttpMetrics::HandshakeFailed() {
  std::lock_guard lock(mu_);
  ++failed_handshakes_;
}
std::int64_t HttpMetrics::open_connections() const {
  std::lock_guard lock(mu_);
  return open_;
}
std::uint64_t HttpMetrics::handshakes(bool resumed) const {
  std::lock_guard lock(mu_);
  return resumed ? resumed_handshakes_ : full_handshakes_;
}

std::string HttpMetrics::Text() const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP anshin_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE anshin_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += fmt::format("anshin_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", key.first,
                       key.second, n);
  }
  out +=
      "# HELP anshin_http_request_duration_seconds Time from a complete request to its response.\n";
  out += "# TYPE anshin_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.counts[i];
      out +=
          fmt::format("anshin_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                      route, kBuckets[i], cumulative);
    }
    out +=
        fmt::format("anshin_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                    route, h.count);
    out +=
        fmt::format("anshin_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route, h.sum);
    out += fmt::format("anshin_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route,
                       h.count);
  }
  out += "# HELP anshin_http_connections Open connections (both listeners).\n";
  out += "# TYPE anshin_http_connections gauge\n";
  out += fmt::format("anshin_http_connections {}\n", open_);
  out += "# HELP anshin_http_connections_accepted_total Connections accepted.\n";
  out += "# TYPE anshin_http_connections_accepted_total counter\n";
  out += fmt::format("anshin_http_connections_accepted_total {}\n", accepted_);
  out +=
      "# HELP anshin_http_connections_refused_total Connections closed at accept: over a "
      "listener's limits.\n";
  out += "# TYPE anshin_http_connections_refused_total counter\n";
  out += fmt::format("anshin_http_connections_refused_total {}\n", refused_);
  out +=
      "# HELP anshin_http_listener_refused_total Connections closed at accept, by listener and "
      "limit (per_address, full).\n";
  out += "# TYPE anshin_http_listener_refused_total counter\n";
  for (const auto& [key, n] : refused_by_) {
    out += fmt::format("anshin_http_listener_refused_total{{listener=\"{}\",reason=\"{}\"}} {}\n",
                       key.first, key.second, n);
  }
  out +=
      "# HELP anshin_http_listener_evicted_total Older pending or idle connections closed to "
      "make room for new ones.\n";
  out += "# TYPE anshin_http_listener_evicted_total counter\n";
  for (const auto& [listener, n] : evicted_) {
    out += fmt::format("anshin_http_listener_evicted_total{{listener=\"{}\"}} {}\n", listener, n);
  }
  out += "# HELP anshin_tls_handshakes_total Completed TLS handshakes on the agents listener.\n";
  out += "# TYPE anshin_tls_handshakes_total counter\n";
  out += fmt::format("anshin_tls_handshakes_total{{kind=\"full\"}} {}\n", full_handshakes_);
  out += fmt::format("anshin_tls_handshakes_total{{kind=\"resumed\"}} {}\n", resumed_handshakes_);
  out += "# HELP anshin_tls_handshake_failures_total TLS handshakes that failed or timed out.\n";
  out += "# TYPE anshin_tls_handshake_failures_total counter\n";
  out += fmt::format("anshin_tls_handshake_failures_total {}\n", failed_handshakes_);
  return out;
}

}  // namespace anshin::server

// Uplink: the agent's HTTPS connection to notify-server (protocol v1, docs/protocol.md).
//
// The agent opens a session only when it has something to send (ward requirement 2: no idle
// polling). Within one session every request reuses the same connection; destroying the
// session closes it. Requests block for at most the configured timeout.
//
// Failures: transport errors, timeouts and HTTP 5xx/408/429 are transient (Unavailable or
// ResourceExhausted: retry with backoff). Any other HTTP 4xx means the server refused the
// request itself (IsRejection: keep the batch, report it, retry much later); the message holds
// the status and the server's error body. A body that does not parse is Internal (transient).
//
// Begin() may be called from several threads (the uplink thread's sessions and the reader
// thread's unknown-card allowlist refresh); each session is used by one thread only.
#pragma once

#include <cstdint>
#include <memory>

#include "common/status.hpp"
#include "common/wire.hpp"

namespace anshin::agent {

class UplinkSession {
 public:
  virtual ~UplinkSession() = default;
  // POST /v1/taps.
  virtual Result<wire::TapAck> PostTaps(const wire::TapBatch& batch) = 0;
  // GET /v1/allowlist?since=V.
  virtual Result<wire::AllowlistDelta> FetchAllowlist(std::uint64_t since) = 0;
};

class Uplink {
 public:
  virtual ~Uplink() = default;
  // Starts a session; no connection is made until the first request.
  virtual std::unique_ptr<UplinkSession> Begin() = 0;
};

// True when the server refused the request (HTTP 4xx other than 408 and 429).
bool IsRejection(const Status& s);

// The Status for an HTTP response status that is not 2xx.
Status StatusOfHttp(long http_status, std::string_view what, std::string_view body);

}  // namespace anshin::agent

// Services: what the server's network layer needs from the rest of the server.
//
// The HTTP layer (listener, TLS, routing, validation of shapes) calls these with the identity
// taken from the verified client certificate; the implementation authenticates the agent
// against the store on every call (so revocation is immediate), judges taps with the
// attendance engine and commits before answering. Implementations run blocking work on their
// own worker threads and call `done` exactly once, from any thread; `done` must only post the
// result back to the caller's executor.
//
// Status codes map to HTTP statuses (HttpStatusOf): Unauthenticated (unknown agent or
// certificate fingerprint), PermissionDenied (disabled or revoked agent, body names another
// agent), Conflict (a tap for another facility), InvalidArgument (semantic errors naming the
// field), Unavailable (store busy or down: the agent retries).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.hpp"
#include "common/time.hpp"
#include "common/types.hpp"
#include "common/wire.hpp"

namespace anshin::server {

// The TLS peer as proven by its certificate (already verified against the deployment CA).
struct Peer {
  std::string agent_name;   // the certificate subject's CN
  std::string cert_sha256;  // lowercase hex SHA-256 of the DER certificate
};

class Services {
 public:
  virtual ~Services() = default;

  virtual void IngestTaps(Peer peer, wire::TapBatch batch, TimePoint received_at,
                          std::function<void(Result<wire::TapAck>)> done) = 0;

  virtual void Allowlist(Peer peer, std::uint64_t since,
                         std::function<void(Result<wire::AllowlistDelta>)> done) = 0;

  // Prometheus text exposition lines for the metrics this side owns (taps received, taps by
  // decision, outbox depth and oldest age, agents seen, ...). Figures that need the store are
  // read off the network thread; `done` is called once, from any thread.
  virtual void Metrics(std::function<void(std::string)> done) = 0;
};

}  // namespace anshin::server

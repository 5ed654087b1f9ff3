// Routing of protocol v1 (docs/protocol.md): a pure function from a request to either a finished
// response or the call the session must make (into Services, the metrics, or the public pages
// handler). No I/O, no state: the session owns the connection and runs the call.
//
// Validation done here: method and path (404, 405 with Allow), the query of /v1/allowlist (400
// naming "since"), the content type of uploads (415), and the body of POST /v1/taps through
// wire::ParseTapBatch (400 naming the field, 413 over the batch limits). Identity and facility
// checks need the store and belong to Services.
#pragma once

#include "notify-server/http/net.hpp"

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.hpp"
#include "common/wire.hpp"

namespace anshin::server {

// kStaff: the staff console's TLS listener; its requests go to the console whole
// (notify-server/console/router.hpp routes them), never through Route().
enum class Listener { kAgents, kPublic, kStaff };

struct IngestCall {
  wire::TapBatch batch;
};
struct AllowlistCall {
  std::uint64_t since = 0;
};
struct MetricsCall {};
struct PublicPageCall {};  // for the extra public handler (mail address verification pages)

struct Routed {
  std::string route;  // the metrics label: "taps", "allowlist", "healthz", "metrics", ...
  std::variant<Response, IngestCall, AllowlistCall, MetricsCall, PublicPageCall> action;
};

struct RouterOptions {
  // Path prefixes ("/verify") served by the extra public handler on the public listener.
  std::vector<std::string> public_page_prefixes;
};

Routed Route(const Request& req, Listener listener, const RouterOptions& options);

// Responses shaped like every other answer of the server (JSON, keep-alive as the request asked).
Response JsonResponse(const Request& req, http::status status, std::string body);
Response TextResponse(const Request& req, http::status status, std::string_view content_type,
                      std::string body);
// The documented status of a failed Status (HttpStatusOf) and its wire::ErrorJson body; 503
// also carries Retry-After.
Response ErrorResponse(const Request& req, const Status& status);
// For errors found before a complete request exists (over the header or body limit).
Response ErrorResponse(unsigned version, const Status& status);

// Whether a Status's message is meant for the client: the codes Services documents for
// refusals (InvalidArgument, Unauthenticated, PermissionDenied, Conflict, TooLarge,
// ResourceExhausted), whose messages name the field or the reason.
bool IsClientFacing(Status::Code code);
// The answer to a failed call into Services (or any layer that may carry SQL or other internal
// text). Client-facing codes are answered as ErrorResponse; Unavailable is 503 (Retry-After) and
// every other code 500, both with a generic message and `error_id` only
// (wire::OpaqueErrorJson). The caller logs the full Status under the same id.
Response ServiceErrorResponse(const Request& req, const Status& status, std::string_view error_id);

// The headers every response to a browser-facing listener (public; later staff) carries:
// Content-Security-Policy (the strict default "default-src 'none'; form-action 'self';
// frame-ancestors 'none'; base-uri 'none'" unless the handler set a policy of its own),
// X-Frame-Options: DENY, X-Content-Type-Options: nosniff and Referrer-Policy: no-referrer (a
// verification link's token must not leak to another site by Referer).
void AddBrowserSecurityHeaders(Response& res);

// The client of a public request: `peer` (the TCP peer's IP), or, when the peer is one of the
// `trusted_proxies`, the last address of its X-Forwarded-For header (the one the proxy itself
// appended; anything before it came from the client and may be forged). A header that is absent
// or whose last entry is no IP literal leaves `peer`.
std::string ClientAddress(const Request& req, const std::string& peer,
                          const std::set<std::string>& trusted_proxies);

// "since" from "/v1/allowlist?since=12"; absent means 0.
Result<std::uint64_t> ParseSinceQuery(std::string_view target);

}  // namespace anshin::server

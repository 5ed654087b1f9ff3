#include "notify-server/http/router.hpp"

#include <charconv>

namespace anshin::server {
namespace {

constexpr std::string_view kServerName = "anshin-server";
// Nothing may load, frame or be framed; forms may only post back here.
constexpr std::string_view kStrictCsp =
    "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

std::string_view QueryOf(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

Response MethodNotAllowed(const Request& req, std::string_view allow) {
  Response res =
      ErrorResponse(req, Status::InvalidArgument("method: " + std::string(req.method_string()) +
                                                 " not allowed; use " + std::string(allow)));
  res.result(http::status::method_not_allowed);
  res.set(http::field::allow, ToBeast(allow));
  return res;
}

bool IsJsonContentType(std::string_view value) {
  auto semicolon = value.find(';');
  std::string_view type = value.substr(0, semicolon);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type.size() != 16) return false;
  for (std::size_t i = 0; i < type.size(); ++i) {
    char c = type[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != "application/json"[i]) return false;
  }
  return true;
}

Routed RouteAgents(const Request& req, std::string_view path) {
  if (path == "/v1/taps") {
    if (req.method() != http::verb::post) return {"taps", MethodNotAllowed(req, "POST")};
    std::string_view type = ToStd(req[http::field::content_type]);
    if (!type.empty() && !IsJsonContentType(type)) {
      Response res =
          ErrorResponse(req, Status::InvalidArgument("content-type: expected application/json"));
      res.result(http::status::unsupported_media_type);
      return {"taps", std::move(res)};
    }
    Result<wire::TapBatch> batch = wire::ParseTapBatch(req.body());
    if (!batch.ok()) return {"taps", ErrorResponse(req, batch.status())};
    return {"taps", IngestCall{std::move(batch).value()}};
  }
  if (path == "/v1/allowlist") {
    if (req.method() != http::verb::get) return {"allowlist", MethodNotAllowed(req, "GET")};
    Result<std::uint64_t> since = ParseSinceQuery(ToStd(req.target()));
    if (!since.ok()) return {"allowlist", ErrorResponse(req, since.status())};
    return {"allowlist", AllowlistCall{*since}};
  }
  return {"other", ErrorResponse(req, Status::NotFound("path: no such resource"))};
}

}  // namespace

std::string ClientAddress(const Request& req, const std::string& peer,
                          const std::set<std::string>& trusted_proxies) {
  if (trusted_proxies.count(peer) == 0) return peer;
  std::string_view forwarded = ToStd(req["X-Forwarded-For"]);
  std::string_view last = forwarded.substr(forwarded.rfind(',') + 1);  // npos + 1 == 0
  while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) last.remove_prefix(1);
  while (!last.empty() && (last.back() == ' ' || last.back() == '\t')) last.remove_suffix(1);
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(std::string(last), ec);
  return ec ? peer : address.to_string();
}

Result<std::uint64_t> ParseSinceQuery(std::string_view target) {
  std::string_view query = QueryOf(target);
  std::uint64_t since = 0;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    auto eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    if (name != "since") {
      return Status::InvalidArgument(std::string(name.empty() ? "query" : name) +
                                     ": unknown query parameter");
    }
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), since);
    if (ec == std::errc::result_out_of_range || (ec == std::errc() && since > wire::kMaxInteger)) {
      return Status::InvalidArgument("since: must be at most " + std::to_string(wire::kMaxInteger) +
                                     " (2^53 - 1)");
    }
    if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
      return Status::InvalidArgument("since: expected a non-negative integer version");
    }
  }
  return since;
}

Response TextResponse(const Request& req, http::status status, std::string_view content_type,
                      std::string body) {
  Response res{status, req.version()};
  res.set(http::field::server, ToBeast(kServerName));
  res.set(http::field::content_type, ToBeast(content_type));
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response JsonResponse(const Request& req, http::status status, std::string body) {
  return TextResponse(req, status, "application/json", std::move(body));
}

Response ErrorResponse(const Request& req, const Status& status) {
  Response res = JsonResponse(req, static_cast<http::status>(HttpStatusOf(status.code())),
                              wire::ErrorJson(status));
  if (status.code() == Status::Code::kUnavailable) res.set(http::field::retry_after, "1");
  return res;
}

bool IsClientFacing(Status::Code code) {
  switch (code) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kUnauthenticated:
    case Status::Code::kPermissionDenied:
    case Status::Code::kConflict:
    case Status::Code::kTooLarge:
    case Status::Code::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

Response ServiceErrorResponse(const Request& req, const Status& status, std::string_view error_id) {
  if (IsClientFacing(status.code())) return ErrorResponse(req, status);
  if (status.code() == Status::Code::kUnavailable) {
    Response res = JsonResponse(
        req, http::status::service_unavailable,
        wire::OpaqueErrorJson(status.code(), "temporarily unavailable; retry later", error_id));
    res.set(http::field::retry_after, "1");
    return res;
  }
  return JsonResponse(req, http::status::internal_server_error,
                      wire::OpaqueErrorJson(Status::Code::kInternal, "internal error", error_id));
}

void AddBrowserSecurityHeaders(Response& res) {
  if (res.find("Content-Security-Policy") == res.end()) {
    res.set("Content-Security-Policy", ToBeast(kStrictCsp));
  }
  res.set(http::field::x_frame_options, "DENY");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
}

Response ErrorResponse(unsigned version, const Status& status) {
  Request req{http::verb::unknown, "/", version};
  Response res = ErrorResponse(req, status);
  res.keep_alive(false);
  return res;
}

Routed Route(const Request& req, Listener listener, const RouterOptions& options) {
  std::string_view path = PathOf(ToStd(req.target()));
  if (path == "/healthz") {
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      return {"healthz", MethodNotAllowed(req, "GET, HEAD")};
    }
    return {"healthz", JsonResponse(req, http::status::ok, "{\"status\":\"ok\"}")};
  }
  if (listener == Listener::kAgents) return RouteAgents(req, path);

  if (path == "/metrics") {
    if (req.method() != http::verb::get) return {"metrics", MethodNotAllowed(req, "GET")};
    return {"metrics", MetricsCall{}};
  }
  for (const std::string& prefix : options.public_page_prefixes) {
    if (path.starts_with(prefix) &&
        (path.size() == prefix.size() || path[prefix.size()] == '/' || prefix.ends_with('/'))) {
      return {"public_page", PublicPageCall{}};
    }
  }
  return {"other", ErrorResponse(req, Status::NotFound("path: no such resource"))};
}

}  // namespace anshin::server

#include "notify-server/console/router.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <utility>
#include <vector>

namespace anshin::console {
namespace {

namespace http = server::http;
using server::ToBeast;
using server::ToStd;

constexpr std::string_view kCsp =
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

Response MethodNotAllowed(const Request& req, std::string_view allow) {
  Response res = TextResponse(req, http::status::method_not_allowed, "text/plain; charset=utf-8",
                              "許可されていない操作です\n");
  res.set(http::field::allow, ToBeast(allow));
  return res;
}

Response NotFound(const Request& req) {
  return TextResponse(req, http::status::not_found, "text/plain; charset=utf-8",
                      "ページが見つかりません\n");
}

// The q parameter of "/children?q=..." still percent-encoded ("" when absent).
std::string QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
  }
  return "";
}

// "/children/12/resend" -> {"children", "12", "resend"}.
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const std::size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  return out;
}

bool PositiveId(std::string_view digits, std::int64_t& id) {
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  return !digits.empty() && ec == std::errc() && end == digits.data() + digits.size() && id > 0;
}

}  // namespace

void AddConsoleHeaders(Response& res) {
  res.set("Content-Security-Policy", ToBeast(kCsp));
  res.set("X-Frame-Options", "DENY");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set(http::field::strict_transport_security, "max-age=31536000");
  res.set(http::field::cache_control, "no-store");
}

Response TextResponse(const Request& req, http::status status, std::string_view content_type,
                      std::string body) {
  Response res{status, req.version()};
  res.set(http::field::server, "anshin-server");
  res.set(http::field::content_type, ToBeast(content_type));
  AddConsoleHeaders(res);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response HtmlResponse(const Request& req, http::status status, std::string body) {
  return TextResponse(req, status, "text/html; charset=utf-8", std::move(body));
}

Response Redirect(const Request& req, std::string_view location) {
  Response res = TextResponse(req, http::status::see_other, "text/plain; charset=utf-8", "");
  res.set(http::field::location, ToBeast(location));
  return res;
}

std::string CookieHeader(std::string_view name, std::string_view value) {
  std::string out =
      std::string(name) + "=" + std::string(value) + "; Secure; HttpOnly; SameSite=Strict; Path=/";
  if (value.empty()) out += "; Max-Age=0";
  return out;
}

ConsoleCall Route(const Request& req) {
  const std::string_view target = ToStd(req.target());
  const std::size_t qmark = target.find('?');
  const std::string_view path = target.substr(0, qmark);
  const std::string_view query =
      qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1);
  const bool get = req.method() == http::verb::get;
  const bool post = req.method() == http::verb::post;

  if (path == "/login") {
    if (get) return LoginForm{};
    if (post) return LoginPost{};
    return MethodNotAllowed(req, "GET, POST");
  }
  if (path == "/logout") {
    if (post) return LogoutPost{};
    return MethodNotAllowed(req, "POST");
  }
  if (path.starts_with("/alerts/") || path.starts_with("/children/")) {
    // /alerts/{id}/ack, /children/{id} and the child's actions below it.
    std::vector<std::string_view> parts = Segments(path);
    std::int64_t id = 0;
    if (parts.size() < 2 || !PositiveId(parts[1], id)) return NotFound(req);
    if (parts[0] == "alerts") {
      if (parts.size() != 3 || parts[2] != "ack") return NotFound(req);
      if (!post) return MethodNotAllowed(req, "POST");
      return AckAlert{id};
    }
    if (parts.size() == 2) {
      if (!get) return MethodNotAllowed(req, "GET");
      return ChildPage{ChildId{id}, QueryParam(query, "done")};
    }
    static constexpr std::pair<std::string_view, ChildActionKind> kActions[] = {
        {"card-lost", ChildActionKind::kCardLost},
        {"card-found", ChildActionKind::kCardFound},
        {"card-replace", ChildActionKind::kReplaceCard},
        {"resend", ChildActionKind::kResend},
        {"address", ChildActionKind::kFixAddress},
        {"code", ChildActionKind::kEnterCode},
        {"absence", ChildActionKind::kAbsence},
        {"attends", ChildActionKind::kAttendDays},
    };
    if (parts.size() == 3) {
      for (const auto& [name, kind] : kActions) {
        if (parts[2] != name) continue;
        if (!post) return MethodNotAllowed(req, "POST");
        return ChildAction{ChildId{id}, kind};
      }
    }
    return NotFound(req);
  }
  if (path == "/board/taps") {
    if (post) return BoardTap{};
    return MethodNotAllowed(req, "POST");
  }
  static constexpr std::string_view kPages[] = {
      "/",           "/children",           "/audit",          "/alerts", "/board", "/board/events",
      "/operations", "/static/console.css", "/static/board.js"};
  if (std::find(std::begin(kPages), std::end(kPages), path) == std::end(kPages))
    return NotFound(req);
  if (!get) return MethodNotAllowed(req, "GET");
  if (path == "/") return HomePage{};
  if (path == "/audit") return AuditPage{QueryParam(query, "q"), QueryParam(query, "since")};
  if (path == "/alerts") return AlertsPage{};
  if (path == "/board") return BoardPage{QueryParam(query, "facility"), QueryParam(query, "done")};
  if (path == "/board/events") return BoardEvents{QueryParam(query, "facility")};
  if (path == "/operations") return OperationsPage{};
  if (path == "/static/console.css") return StyleSheet{};
  if (path == "/static/board.js") return Script{};
  return SearchPage{QueryParam(query, "q")};
}

}  // namespace anshin::console

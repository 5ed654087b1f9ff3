#include "notify-server/http/router.hpp"

#include <catch2/catch.hpp>

namespace anshin::server {
namespace {

Request Make(http::verb verb, std::string target, std::string body = "",
             std::string content_type = "application/json") {
  Request req{verb, target, 11};
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

Response ResponseOf(const Routed& r) {
  REQUIRE(std::holds_alternative<Response>(r.action));
  return std::get<Response>(r.action);
}

constexpr char kBatch[] =
    R"({"agent":"a1","sent_at":"2026-11-26T06:00:00Z","taps":[{"seq":1,)"
    R"("card":"0123456789abcdef0123456789abcdef","at":"2026-11-26T06:00:00Z",)"
    R"("reader":"entrance","direction":"auto"}]})";

TEST_CASE("POST /v1/taps with a valid batch becomes an ingest call", "[router]") {
  Routed r = Route(Make(http::verb::post, "/v1/taps", kBatch), Listener::kAgents, {});
  CHECK(r.route == "taps");
  REQUIRE(std::holds_alternative<IngestCall>(r.action));
  const auto& batch = std::get<IngestCall>(r.action).batch;
  CHECK(batch.agent == "a1");
  REQUIRE(batch.taps.size() == 1);
  CHECK(batch.taps[0].seq == 1);
}

TEST_CASE("malformed and mistyped bodies are 400 naming the field", "[router]") {
  Response bad =
      ResponseOf(Route(Make(http::verb::post, "/v1/taps", "{not json"), Listener::kAgents, {}));
  CHECK(bad.result() == http::status::bad_request);
  CHECK(bad.body().find("\"error\"") != std::string::npos);

  std::string wrong = kBatch;
  wrong.replace(wrong.find("\"seq\":1"), 7, "\"seq\":\"1\"");
  Response typed =
      ResponseOf(Route(Make(http::verb::post, "/v1/taps", wrong), Listener::kAgents, {}));
  CHECK(typed.result() == http::status::bad_request);
  CHECK(typed.body().find("seq") != std::string::npos);
  CHECK(typed[http::field::content_type] == "application/json");
}

TEST_CASE("uploads must be JSON", "[router]") {
  Response res = ResponseOf(
      Route(Make(http::verb::post, "/v1/taps", kBatch, "text/plain"), Listener::kAgents, {}));
  CHECK(res.result() == http::status::unsupported_media_type);
  Routed ok = Route(Make(http::verb::post, "/v1/taps", kBatch, "application/json; charset=utf-8"),
                    Listener::kAgents, {});
  CHECK(std::holds_alternative<IngestCall>(ok.action));
}

TEST_CASE("wrong methods are 405 with Allow, unknown paths 404", "[router]") {
  Response get = ResponseOf(Route(Make(http::verb::get, "/v1/taps"), Listener::kAgents, {}));
  CHECK(get.result() == http::status::method_not_allowed);
  CHECK(get[http::field::allow] == "POST");
  Response nf = ResponseOf(Route(Make(http::verb::get, "/nope"), Listener::kAgents, {}));
  CHECK(nf.result() == http::status::not_found);
  // The agents' routes do not exist on the public listener and vice versa.
  CHECK(ResponseOf(Route(Make(http::verb::post, "/v1/taps", kBatch), Listener::kPublic, {}))
            .result() == http::status::not_found);
  CHECK(ResponseOf(Route(Make(http::verb::get, "/metrics"), Listener::kAgents, {})).result() ==
        http::status::not_found);
}

TEST_CASE("allowlist query", "[router]") {
  Routed r = Route(Make(http::verb::get, "/v1/allowlist?since=42"), Listener::kAgents, {});
  REQUIRE(std::holds_alternative<AllowlistCall>(r.action));
  CHECK(std::get<AllowlistCall>(r.action).since == 42);
  Routed none = Route(Make(http::verb::get, "/v1/allowlist"), Listener::kAgents, {});
  REQUIRE(std::holds_alternative<AllowlistCall>(none.action));
  CHECK(std::get<AllowlistCall>(none.action).since == 0);
  for (const char* target : {"/v1/allowlist?since=-1", "/v1/allowlist?since=x",
                             "/v1/allowlist?since=", "/v1/allowlist?since=99999999999999999999"}) {
    Response res = ResponseOf(Route(Make(http::verb::get, target), Listener::kAgents, {}));
    CHECK(res.result() == http::status::bad_request);
    CHECK(res.body().find("since") != std::string::npos);
  }
  CHECK(ResponseOf(Route(Make(http::verb::get, "/v1/allowlist?from=1"), Listener::kAgents, {}))
            .result() == http::status::bad_request);
}

TEST_CASE("healthz on both listeners, metrics and public pages on the public one", "[router]") {
  for (Listener l : {Listener::kAgents, Listener::kPublic}) {
    Response res = ResponseOf(Route(Make(http::verb::get, "/healthz"), l, {}));
    CHECK(res.result() == http::status::ok);
  }
  CHECK(std::holds_alternative<MetricsCall>(
      Route(Make(http::verb::get, "/metrics"), Listener::kPublic, {}).action));
  RouterOptions options{{"/verify"}};
  CHECK(std::holds_alternative<PublicPageCall>(
      Route(Make(http::verb::get, "/verify?t=abc"), Listener::kPublic, options).action));
  CHECK(std::holds_alternative<PublicPageCall>(
      Route(Make(http::verb::post, "/verify/confirm"), Listener::kPublic, options).action));
  CHECK(std::holds_alternative<Response>(
      Route(Make(http::verb::get, "/verifyx"), Listener::kPublic, options).action));
  CHECK(std::holds_alternative<Response>(
      Route(Make(http::verb::get, "/verify"), Listener::kAgents, options).action));
}

TEST_CASE("error responses follow the status codes and keep-alive", "[router]") {
  Request req = Make(http::verb::get, "/x");
  req.keep_alive(false);
  Response res = ErrorResponse(req, Status::Unavailable("store busy"));
  CHECK(res.result_int() == 503);
  CHECK(res[http::field::retry_after] == "1");
  CHECK_FALSE(res.keep_alive());
  CHECK(ErrorResponse(req, Status::Conflict("x")).result_int() == 409);
  CHECK(ErrorResponse(req, Status::PermissionDenied("x")).result_int() == 403);
  CHECK(ErrorResponse(req, Status::Unauthenticated("x")).result_int() == 401);
  CHECK(ErrorResponse(req, Status::TooLarge("body: x")).result_int() == 413);
}

TEST_CASE("every route answers a wrong method with 405 and Allow", "[router]") {
  struct Case {
    Listener listener;
    const char* target;
    const char* allow;
  } cases[] = {
      {Listener::kAgents, "/v1/taps", "POST"},      {Listener::kAgents, "/v1/allowlist", "GET"},
      {Listener::kAgents, "/healthz", "GET, HEAD"}, {Listener::kPublic, "/healthz", "GET, HEAD"},
      {Listener::kPublic, "/metrics", "GET"},
  };
  for (const Case& c : cases) {
    for (http::verb verb : {http::verb::get, http::verb::post, http::verb::put, http::verb::delete_,
                            http::verb::options, http::verb::patch}) {
      Routed r = Route(Make(verb, c.target, kBatch), c.listener, {});
      auto* res = std::get_if<Response>(&r.action);
      if (res == nullptr || res->result() != http::status::method_not_allowed) continue;
      INFO(c.target << " " << http::to_string(verb));
      CHECK((*res)[http::field::allow] == c.allow);
      CHECK(std::string(c.allow).find(std::string(http::to_string(verb))) == std::string::npos);
    }
  }
}

// Defect 3: since is bounded like every protocol integer (2^53 - 1).
TEST_CASE("allowlist since above 2^53 - 1 is 400 naming since", "[router]") {
  Routed ok =
      Route(Make(http::verb::get, "/v1/allowlist?since=9007199254740991"), Listener::kAgents, {});
  REQUIRE(std::holds_alternative<AllowlistCall>(ok.action));
  for (const char* target :
       {"/v1/allowlist?since=9007199254740992", "/v1/allowlist?since=9223372036854775808",
        "/v1/allowlist?since=18446744073709551615"}) {
    INFO(target);
    Response res = ResponseOf(Route(Make(http::verb::get, target), Listener::kAgents, {}));
    CHECK(res.result() == http::status::bad_request);
    CHECK(res.body().find("\"field\":\"since\"") != std::string::npos);
  }
}

TEST_CASE("the client address is the peer's unless a trusted proxy forwarded it", "[router]") {
  Request req = Make(http::verb::post, "/verify");
  req.set("X-Forwarded-For", "10.0.0.1, 203.0.113.9");
  const std::set<std::string> proxies = {"127.0.0.1"};
  CHECK(ClientAddress(req, "127.0.0.1", proxies) == "203.0.113.9");      // the proxy's own entry
  CHECK(ClientAddress(req, "198.51.100.4", proxies) == "198.51.100.4");  // not a proxy: ignored
  req.set("X-Forwarded-For", "2001:db8::1");
  CHECK(ClientAddress(req, "127.0.0.1", proxies) == "2001:db8::1");
  req.set("X-Forwarded-For", "unknown");
  CHECK(ClientAddress(req, "127.0.0.1", proxies) == "127.0.0.1");
  req.erase("X-Forwarded-For");
  CHECK(ClientAddress(req, "127.0.0.1", proxies) == "127.0.0.1");
}

TEST_CASE("service errors: client-facing messages pass, internal ones become an id", "[router]") {
  Request req = Make(http::verb::post, "/v1/taps");
  Response refused = ServiceErrorResponse(req, Status::Conflict("agent: another facility"), "");
  CHECK(refused.result_int() == 409);
  CHECK(refused.body().find("another facility") != std::string::npos);
  Response internal = ServiceErrorResponse(
      req, Status::Internal("SELECT * FROM taps: disk image is malformed"), "0123abcd");
  CHECK(internal.result_int() == 500);
  CHECK(internal.body() ==
        R"({"error":"internal error","error_id":"0123abcd","status":"internal"})");
  Response busy = ServiceErrorResponse(req, Status::Unavailable("database is locked"), "ff");
  CHECK(busy.result_int() == 503);
  CHECK(busy[http::field::retry_after] == "1");
  CHECK(busy.body().find("locked") == std::string::npos);
}

}  // namespace
}  // namespace anshin::server

// fuzz_http: the server's request path from raw bytes, as a connection delivers them: Beast's
// request parser with the server's limits (16 KiB of header, wire::kMaxBodyBytes of body), then
// the router (notify-server/http/router.hpp) on both listeners and the call it asks for: an
// upload answered with its TapAck, the allowlist, /metrics, and the public verification page
// (notify-server/mail/verification_page.hpp) over a real SQLite store with a seeded guardian,
// glued as anshin-server's main does. Requests the parser refuses get the server's early 400.
//
// The session coroutine itself (HttpServer) needs sockets and is covered by the in-process
// tests (tests/server/http/http_server_test.cpp); what it does with a request is exactly this.
//
// Invariants: no crash, uncaught exception, leak or undefined behaviour; no 5xx for anything a
// client can send (the store is up); every response, once the public listener's browser
// headers are added, serializes to bytes that parse back as one HTTP response with the same
// status, the same header fields and nothing left over (no CR or LF can reach a header value);
// responses on the public listener carry the security headers.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "notify-server/http/router.hpp"
#include "notify-server/mail/verification_page.hpp"
#include "services/guardians.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/fake_clock.hpp"
#include "tests/fakes/seed.hpp"
#include "tests/fakes/temp_dir.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace anshin::server {
namespace {

constexpr std::size_t kHeaderLimit = 16 * 1024;  // HttpServerOptions::header_limit
const std::string kProxy = "127.0.0.1";          // a trusted proxy: X-Forwarded-For counts

// A store with one facility, child and (unverified) guardian, made once per process and removed
// at exit.
struct World {
  World() {
    store::SqliteOptions o;
    o.path = dir / "anshin.db";
    o.readers = 1;
    store = store::SqliteStore::Open(o).value();
    fakes::Seed seed(*store, store::Actor{"fuzz", clock.Now()});
    const FacilityId facility = seed.Facility("hikari1", "ひかり児童クラブ");
    const ChildId child = seed.Child("練馬 さくら", facility);
    seed.Guardian(child, "mother@example.jp");
    guardians = std::make_unique<services::Guardians>(*store);
  }
  fakes::TempDir dir{"anshin-fuzz-http"};
  fakes::FakeClock clock{FromUnixMillis(1'795'600'000'000)};
  std::unique_ptr<store::SqliteStore> store;
  std::unique_ptr<services::Guardians> guardians;
};

World& TheWorld() {
  static World world;
  return world;
}

Response PublicPage(const Request& req, mail::VerificationPage& page) {
  const std::string client = ClientAddress(req, kProxy, {kProxy});
  mail::PageReply reply =
      page.Handle(ToStd(req.method_string()), ToStd(req.target()), req.body(), client);
  Response res = TextResponse(req, static_cast<http::status>(reply.status), reply.content_type,
                              std::move(reply.body));
  for (const auto& [name, value] : reply.headers) res.set(name, value);
  return res;
}

Response Answer(const Request& req, Listener listener, mail::VerificationPage& page) {
  RouterOptions options;
  options.public_page_prefixes = {"/verify"};
  Routed routed = Route(req, listener, options);
  if (auto* res = std::get_if<Response>(&routed.action)) return std::move(*res);
  if (auto* call = std::get_if<IngestCall>(&routed.action)) {
    FUZZ_CHECK(listener == Listener::kAgents, "an upload on the public listener");
    wire::TapAck ack;
    ack.acked_through = call->batch.taps.empty() ? 0 : call->batch.taps.back().seq;
    ack.server_time = TheWorld().clock.Now();
    return JsonResponse(req, http::status::ok, wire::Serialize(ack));
  }
  if (auto* call = std::get_if<AllowlistCall>(&routed.action)) {
    wire::AllowlistDelta delta;
    delta.version = call->since;
    return JsonResponse(req, http::status::ok, wire::Serialize(delta));
  }
  if (std::holds_alternative<MetricsCall>(routed.action)) {
    return TextResponse(req, http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                        "anshin_up 1\n");
  }
  FUZZ_CHECK(listener == Listener::kPublic, "a public page on the agents listener");
  return PublicPage(req, page);
}

// What the session does to every response, then the bytes on the wire read back.
void CheckResponse(Response res, Listener listener, bool head) {
  if (listener == Listener::kPublic) AddBrowserSecurityHeaders(res);
  if (head) res.body().clear();
  FUZZ_CHECK(res.result_int() >= 200 && res.result_int() < 500,
             "status " + std::to_string(res.result_int()) + ": " + res.body());
  std::ostringstream wire_bytes;
  wire_bytes << res;
  const std::string bytes = wire_bytes.str();

  http::response_parser<http::string_body> parser;
  parser.skip(head);  // a response to HEAD has a Content-Length but no body
  parser.eager(true);
  beast::error_code ec;
  const std::size_t used = parser.put(asio::buffer(bytes), ec);
  FUZZ_CHECK(!ec && parser.is_done(),
             "the response does not parse: " + ec.message() + "\n" + bytes);
  FUZZ_CHECK(used == bytes.size(), "bytes after the response:\n" + bytes);
  const Response& back = parser.get();
  FUZZ_CHECK(back.result_int() == res.result_int(), bytes);
  std::size_t fields = 0;
  for (const auto& f : res) {
    ++fields;
    const std::string_view value = ToStd(f.value());
    FUZZ_CHECK(value.find_first_of("\r\n") == std::string_view::npos,
               "CR or LF in header " + std::string(ToStd(f.name_string())));
  }
  std::size_t fields_back = 0;
  for (auto it = back.begin(); it != back.end(); ++it) ++fields_back;
  FUZZ_CHECK(fields == fields_back, "the header fields read back otherwise:\n" + bytes);
  if (listener == Listener::kPublic) {
    for (std::string_view name : {"Content-Security-Policy", "X-Frame-Options",
                                  "X-Content-Type-Options", "Referrer-Policy"}) {
      FUZZ_CHECK(back.find(ToBeast(name)) != back.end(), "no " + std::string(name));
    }
  }
}

void Run(std::string_view input) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(kHeaderLimit));
  parser.body_limit(wire::kMaxBodyBytes);
  parser.eager(true);
  beast::error_code ec;
  std::size_t used = 0;
  while (!ec && !parser.is_done() && used < input.size()) {
    const std::size_t n = parser.put(asio::buffer(input.data() + used, input.size() - used), ec);
    if (n == 0 && !ec) break;  // needs more bytes than the input has
    used += n;
  }
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) {
    // The session answers what it could not read with 400/413/431 and closes.
    const Status refused = ec == http::error::body_limit
                               ? Status::TooLarge("body: over the limit")
                               : Status::InvalidArgument("request: " + ec.message());
    for (Listener listener : {Listener::kAgents, Listener::kPublic}) {
      CheckResponse(ErrorResponse(11, refused), listener, false);
    }
    return;
  }
  const Request req = parser.release();
  const bool head = req.method() == http::verb::head;
  for (Listener listener : {Listener::kAgents, Listener::kPublic}) {
    mail::VerificationPage page(*TheWorld().guardians, TheWorld().clock);
    CheckResponse(Answer(req, listener, page), listener, head);
  }
}

}  // namespace
}  // namespace anshin::server

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  (void)anshin::server::TheWorld();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  anshin::server::Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

#include "notify-server/http/server_config.hpp"

#include <catch2/catch.hpp>

namespace anshin::server {
namespace {

TEST_CASE("listen addresses", "[config]") {
  auto a = ParseListenAddress("k", "0.0.0.0:8443");
  REQUIRE(a.ok());
  CHECK(*a == ListenAddress{"0.0.0.0", 8443});
  auto v6 = ParseListenAddress("k", "[::1]:0");
  REQUIRE(v6.ok());
  CHECK(*v6 == ListenAddress{"::1", 0});
  for (const char* bad : {"8443", ":80", "host:", "host:99999", "host:x", "::1:80", "[::1]80"}) {
    auto r = ParseListenAddress("server.agents_listen", bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("server.agents_listen") == 0);
  }
}

TEST_CASE("defaults and relative paths", "[config]") {
  auto config = sys::Config::Parse("[server]\nworkers = 3\n");
  REQUIRE(config.ok());
  auto c = LoadServerConfig(*config);
  REQUIRE(c.ok());
  CHECK(c->agents_listen == ListenAddress{"0.0.0.0", 8443});
  CHECK(c->public_listen == ListenAddress{"127.0.0.1", 8080});
  CHECK(c->workers == 3);
  CHECK(c->max_connections == 1024);
  CHECK(c->idle_timeout == Millis(30'000));
  CHECK(c->request_timeout == Millis(10'000));
  CHECK(c->synchronous_full);
  CHECK(c->tls_cert.filename() == "server.crt");
}

TEST_CASE("bad values and unknown keys name the key", "[config]") {
  struct Case {
    const char* text;
    const char* key;
  };
  for (Case k : {Case{"[server]\nsynchronous = \"off\"\n", "server.synchronous"},
                 Case{"[server]\nlog_level = \"loud\"\n", "server.log_level"},
                 Case{"[server]\nworkers = 0\n", "server.workers"},
                 Case{"[server]\nidle_timeout = \"soon\"\n", "server.idle_timeout"},
                 Case{"[server]\npublic_listen = 8080\n", "server.public_listen"}}) {
    auto config = sys::Config::Parse(k.text);
    REQUIRE(config.ok());
    auto c = LoadServerConfig(*config);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message().find(k.key) != std::string::npos);
  }
  auto typo = sys::Config::Parse("[server]\nmax_conections = 5\n");
  REQUIRE(typo.ok());
  const std::vector<std::string_view> mail_keys = {"mail.relay"};
  Status s = RejectUnknownServerKeys(*typo, mail_keys);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("server.max_conections") != std::string::npos);
  auto mail = sys::Config::Parse("[mail]\nrelay = \"x\"\n[tls]\ncert = \"a\"\n");
  REQUIRE(mail.ok());
  CHECK(RejectUnknownServerKeys(*mail, mail_keys).ok());
  auto mail_typo = sys::Config::Parse("[mail]\nrelai = \"x\"\n");
  REQUIRE(mail_typo.ok());
  CHECK(RejectUnknownServerKeys(*mail_typo, mail_keys).message().find("mail.relai") !=
        std::string::npos);
}

}  // namespace
}  // namespace anshin::server

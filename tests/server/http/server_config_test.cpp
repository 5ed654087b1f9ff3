#include "notify-server/http/server_config.hpp"

#include <catch2/catch.hpp>

#include "tests/fakes/temp_dir.hpp"

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

TEST_CASE("the staff listener: off by default, its address, limits and own certificate",
          "[config]") {
  auto off = LoadServerConfig(sys::Config::Parse("[server]\n").value());
  REQUIRE(off.ok());
  CHECK_FALSE(off->staff_listen.has_value());
  CHECK(off->staff_limits.max_connections == 128);
  CHECK(off->staff_tls_cert.empty());

  auto on = LoadServerConfig(
      sys::Config::Parse("[server]\nstaff_listen = \"127.0.0.1:8443\"\nstaff_max_connections = 7\n"
                         "staff_max_pending = 3\n[staff_tls]\ncert = \"pki/staff.crt\"\n"
                         "key = \"pki/staff.key\"\n")
          .value());
  REQUIRE(on.ok());
  REQUIRE(on->staff_listen.has_value());
  CHECK(*on->staff_listen == ListenAddress{"127.0.0.1", 8443});
  CHECK(on->staff_limits.max_connections == 7);
  CHECK(on->staff_limits.max_pending == 3);
  CHECK(on->staff_tls_cert.filename() == "staff.crt");
  CHECK(on->staff_tls_key.filename() == "staff.key");

  auto half =
      LoadServerConfig(sys::Config::Parse("[staff_tls]\ncert = \"pki/staff.crt\"\n").value());
  REQUIRE_FALSE(half.ok());
  CHECK(half.status().message().find("staff_tls") == 0);
  auto bad = LoadServerConfig(sys::Config::Parse("[server]\nstaff_listen = \"nowhere\"\n").value());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("server.staff_listen") == 0);
}

TEST_CASE("server.card_key: off by default, a good key loaded, a bad one named", "[config]") {
  auto off = LoadServerConfig(sys::Config::Parse("[server]\n").value());
  REQUIRE(off.ok());
  CHECK(off->card_key.empty());
  CHECK_FALSE(LoadServerCardKey(*off).value().has_value());

  fakes::TempDir dir("card-key");
  const std::string hex(64, 'a');
  REQUIRE(sys::WriteFileAtomic(dir / "card.key", hex + "\n").ok());
  REQUIRE(sys::WriteFileAtomic(dir / "bad.key", "not a key\n").ok());
  auto config = [&](const std::string& file) {
    return LoadServerConfig(
               sys::Config::Parse("[server]\ncard_key = \"" + (dir / file).string() + "\"\n")
                   .value())
        .value();
  };
  auto good = LoadServerCardKey(config("card.key"));
  REQUIRE(good.ok());
  REQUIRE(good->has_value());
  CHECK((*good)->ToHex() == hex);
  for (const char* file : {"bad.key", "missing.key"}) {
    auto bad = LoadServerCardKey(config(file));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().message().find("server.card_key: ") == 0);
    CHECK(bad.status().message().find(file) != std::string::npos);
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
  CHECK(c->agents_limits.max_connections == 1024);
  CHECK(c->agents_limits.max_pending == 256);
  CHECK(c->agents_limits.max_per_address == 0);
  CHECK(c->public_limits.max_connections == 256);
  CHECK(c->public_limits.max_pending == 64);
  CHECK(c->public_limits.max_per_address == 8);
  CHECK(c->handshake_timeout == Millis(5'000));
  CHECK(c->idle_timeout == Millis(30'000));
  CHECK(c->request_timeout == Millis(10'000));
  CHECK(c->synchronous_full);
  CHECK(c->tls_cert.filename() == "server.crt");
}

TEST_CASE("each listener has its own connection limits", "[config]") {
  auto config = sys::Config::Parse(
      "[server]\nagents_max_connections = 2000\nagents_max_pending = 300\n"
      "agents_max_per_address = 50\npublic_max_connections = 64\npublic_max_pending = 16\n"
      "public_max_per_address = 4\nhandshake_timeout = \"2s\"\n");
  REQUIRE(config.ok());
  const std::vector<std::string_view> none;
  CHECK(RejectUnknownServerKeys(*config, none).ok());
  auto c = LoadServerConfig(*config);
  REQUIRE(c.ok());
  CHECK(c->agents_limits.max_connections == 2000);
  CHECK(c->agents_limits.max_pending == 300);
  CHECK(c->agents_limits.max_per_address == 50);
  CHECK(c->public_limits.max_connections == 64);
  CHECK(c->public_limits.max_pending == 16);
  CHECK(c->public_limits.max_per_address == 4);
  CHECK(c->handshake_timeout == Millis(2'000));
  CHECK(c->public_limits.trusted_proxies.empty());
  auto proxied = sys::Config::Parse("[server]\npublic_trusted_proxies = \"127.0.0.1, ::1\"\n");
  REQUIRE(proxied.ok());
  auto p = LoadServerConfig(*proxied);
  REQUIRE(p.ok());
  CHECK(p->public_limits.trusted_proxies == std::set<std::string>{"127.0.0.1", "::1"});
  auto bad = sys::Config::Parse("[server]\npublic_trusted_proxies = \"127.0.0.1, proxy\"\n");
  REQUIRE(bad.ok());
  auto b = LoadServerConfig(*bad);
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().message().find("server.public_trusted_proxies: \"proxy\"") == 0);
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
                 Case{"[server]\nhandshake_timeout = \"0s\"\n", "server.handshake_timeout"},
                 Case{"[server]\npublic_max_per_address = -1\n", "server.public_max_per_address"},
                 Case{"[server]\nagents_max_connections = 0\n", "server.agents_max_connections"},
                 Case{"[server]\nagents_max_connections = 10\nagents_max_pending = 20\n",
                      "server.agents_max_pending"},
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

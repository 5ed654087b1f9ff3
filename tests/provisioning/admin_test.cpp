// anshin-admin: the CLI and library against a real home in a temp dir; certificates are
// checked with OpenSSL in-process and with the openssl command (`openssl verify`).
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <sstream>

#include "common/sys/sys.hpp"
#include "provisioning/admin.hpp"
#include "provisioning/pki.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::admin {
namespace {

namespace fs = std::filesystem;

struct CliResult {
  int code;
  std::string out, err;
};

CliResult Cli(const fs::path& home, std::vector<std::string> args) {
  args.insert(args.begin(), {"anshin-admin", "--home", home.string()});
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

unsigned Mode(const fs::path& p) {
  struct stat st {};
  REQUIRE(stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

// Runs a shell command, returning its exit status and output.
std::pair<int, std::string> Shell(const std::string& cmd) {
  std::string out;
  FILE* f = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[512];
  while (fgets(buf, sizeof buf, f) != nullptr) out += buf;
  int rc = pclose(f);
  return {WEXITSTATUS(rc), out};
}

Certificate LoadCert(const fs::path& p) {
  return ParseCertificatePem(sys::ReadFile(p).value()).value();
}

struct Home {
  fakes::TempDir dir{"admin-test"};
  fs::path home = dir / "home";
  Home() {
    auto r = Cli(home, {"init", "--server-san", "127.0.0.1", "--server-san", "localhost"});
    REQUIRE(r.code == 0);
    REQUIRE(Cli(home, {"facility", "add", "--code", "hikari-1", "--name", "光が丘第一学童クラブ"})
                .code == 0);
  }
};

// Reads through a snapshot of the admin's store; fails the test on a store error.
template <typename Fn>
auto Read(Admin& admin, Fn&& fn) {
  return store::InRead(admin.store(), std::forward<Fn>(fn)).value();
}

TEST_CASE("init creates the database, PKI, card key and config with the right modes", "[admin]") {
  Home h;
  for (const char* secret : {"pki/ca.key", "pki/server.key", "card.key"}) {
    INFO(secret);
    CHECK(Mode(h.home / secret) == 0600);
  }
  for (const char* pub : {"pki/ca.crt", "pki/server.crt", "server.toml", "anshin.db"}) {
    INFO(pub);
    CHECK(fs::exists(h.home / pub));
  }
  CHECK(CardKey::Parse(sys::ReadFile(h.home / "card.key").value().substr(0, 64)).ok());
  auto cfg = sys::Config::Load(h.home / "server.toml").value();
  CHECK(cfg.String("server.agents_listen", "").value() == "0.0.0.0:8443");
  CHECK(cfg.String("server.public_listen", "").value() == "127.0.0.1:8080");
  CHECK(cfg.Path("tls.client_ca", "").value() == h.home / "pki/ca.crt");
  CHECK(cfg.String("mail.relay", "").value() == "smtp://127.0.0.1:25");

  // A second init refuses to destroy the deployment; --force replaces it.
  auto again = Cli(h.home, {"init", "--server-san", "localhost"});
  CHECK(again.code != 0);
  CHECK(again.err.find("--force") != std::string::npos);
  std::string old_ca = sys::ReadFile(h.home / "pki/ca.crt").value();
  REQUIRE(Cli(h.home, {"init", "--server-san", "localhost", "--force"}).code == 0);
  CHECK(sys::ReadFile(h.home / "pki/ca.crt").value() != old_ca);
}

TEST_CASE("the server certificate carries the SANs and verifies against the CA", "[admin]") {
  Home h;
  Certificate server = LoadCert(h.home / "pki/server.crt");
  CHECK(X509_check_ip_asc(server.get(), "127.0.0.1", 0) == 1);
  CHECK(X509_check_host(server.get(), "localhost", 0, 0, nullptr) == 1);
  CHECK(X509_check_host(server.get(), "example.com", 0, 0, nullptr) != 1);
  CHECK(X509_check_purpose(server.get(), X509_PURPOSE_SSL_SERVER, 0) == 1);
  Certificate ca = LoadCert(h.home / "pki/ca.crt");
  CHECK(X509_check_ca(ca.get()) >= 1);
  EVP_PKEY* key = X509_get0_pubkey(server.get());
  CHECK(EVP_PKEY_is_a(key, "EC"));
  CHECK(EVP_PKEY_get_bits(key) == 256);
  auto [rc, out] =
      Shell("openssl verify -purpose sslserver -CAfile " + (h.home / "pki/ca.crt").string() + " " +
            (h.home / "pki/server.crt").string());
  INFO(out);
  CHECK(rc == 0);
}

TEST_CASE("facilities are added, listed and changed", "[admin]") {
  Home h;
  auto bad =
      Cli(h.home, {"facility", "add", "--code", "x", "--name", "X", "--departure-margin", "soon"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("departure-margin") != std::string::npos);
  CHECK(
      Cli(h.home, {"facility", "add", "--code", "x", "--name", "X", "--tz", "Mars/Olympus"}).code ==
      2);
  REQUIRE(Cli(h.home, {"facility", "set", "hikari-1", "--closing-time", "18:30", "--late-after",
                       "10m", "--double-tap-window", "90s"})
              .code == 0);
  auto list = Cli(h.home, {"facility", "list"});
  REQUIRE(list.code == 0);
  CHECK(list.out.find("hikari-1") != std::string::npos);
  CHECK(list.out.find("18:30") != std::string::npos);
  auto admin = Admin::Open(h.home, "tester").value();
  auto f =
      Read(*admin, [](store::ReadTxn& t) { return t.facilities().FindByCode("hikari-1"); }).value();
  CHECK(f.rules.late_after == Seconds(600));
  CHECK(f.rules.double_tap_window == Seconds(90));
  CHECK(f.rules.closing_time == LocalTime::HM(18, 30));
}

TEST_CASE("the ward switches not-arrived mail to guardians on per facility", "[admin]") {
  Home h;
  // Without an expected time nothing is ever "not arrived": refused, in words.
  auto early = Cli(h.home, {"facility", "set", "hikari-1", "--notify-not-arrived", "on"});
  CHECK(early.code != 0);
  CHECK(early.err.find("expected-arrival-by") != std::string::npos);
  auto typo = Cli(h.home, {"facility", "set", "hikari-1", "--notify-not-arrived", "yes"});
  CHECK(typo.code != 0);
  CHECK(typo.err.find("notify-not-arrived") != std::string::npos);
  REQUIRE(Cli(h.home, {"facility", "set", "hikari-1", "--expected-arrival-by", "16:00",
                       "--notify-not-arrived", "on"})
              .code == 0);
  auto list = Cli(h.home, {"facility", "list"});
  REQUIRE(list.code == 0);
  CHECK(list.out.find("\texpected_arrival_by\tnotify_not_arrived\n") != std::string::npos);
  CHECK(list.out.find("\t16:00\ton\n") != std::string::npos);
  auto admin = Admin::Open(h.home, "tester").value();
  auto f =
      Read(*admin, [](store::ReadTxn& t) { return t.facilities().FindByCode("hikari-1"); }).value();
  CHECK(f.notify_not_arrived);
  // Who switched it, in the audit log.
  auto audit = Read(*admin, [](store::ReadTxn& t) { return t.audit().List(); });
  REQUIRE_FALSE(audit.empty());
  CHECK(audit.back().action == "facility.set");
  CHECK_FALSE(audit.back().actor.empty());  // the operator who ran it
  CHECK(audit.back().detail.find("notify_not_arrived=on") != std::string::npos);
  REQUIRE(Cli(h.home, {"facility", "set", "hikari-1", "--notify-not-arrived", "off"}).code == 0);
  CHECK(Cli(h.home, {"facility", "list"}).out.find("\t16:00\toff\n") != std::string::npos);
}

TEST_CASE("agent enrolment writes a bundle whose certificate verifies", "[admin]") {
  Home h;
  fs::path out = h.dir / "bundle";
  auto r = Cli(h.home, {"agent", "enroll", "--facility", "hikari-1", "--name", "hikari-1-pc",
                        "--out", out.string(), "--server-url", "https://anshin.example.jp:8443"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(Mode(out / "agent.key") == 0600);
  CHECK(Mode(out / "card.key") == 0600);
  CHECK(sys::ReadFile(out / "card.key").value() == sys::ReadFile(h.home / "card.key").value());
  auto [rc, text] = Shell("openssl verify -purpose sslclient -CAfile " + (out / "ca.crt").string() +
                          " " + (out / "agent.crt").string());
  INFO(text);
  CHECK(rc == 0);

  Certificate cert = LoadCert(out / "agent.crt");
  char cn[128] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn);
  CHECK(std::string(cn) == "hikari-1-pc");
  CHECK(X509_check_purpose(cert.get(), X509_PURPOSE_SSL_CLIENT, 0) == 1);
  PrivateKey key = ParsePrivateKeyPem(sys::ReadFile(out / "agent.key").value()).value();
  CHECK(X509_check_private_key(cert.get(), key.get()) == 1);

  auto admin = Admin::Open(h.home, "tester").value();
  auto agent =
      Read(*admin, [](store::ReadTxn& t) { return t.agents().Find("hikari-1-pc"); }).value();
  CHECK(agent.cert_sha256 == CertificateSha256(cert.get()).value());
  CHECK(agent.status == store::AgentStatus::kActive);

  auto cfg = sys::Config::Load(out / "agent.toml").value();
  CHECK(cfg.String("agent.name", "").value() == "hikari-1-pc");
  CHECK(cfg.String("uplink.server_url", "").value() == "https://anshin.example.jp:8443");
  CHECK(cfg.Path("uplink.cert", "").value() == out / "agent.crt");

  CHECK(Cli(h.home, {"agent", "enroll", "--facility", "hikari-1", "--name", "hikari-1-pc", "--out",
                     out.string()})
            .code != 0);  // enrolled twice
  CHECK(Cli(h.home, {"agent", "enroll", "--facility", "nope", "--name", "x", "--out", out.string()})
            .code != 0);
  REQUIRE(Cli(h.home, {"agent", "revoke", "hikari-1-pc"}).code == 0);
  auto list = Cli(h.home, {"agent", "list"});
  CHECK(list.out.find("revoked") != std::string::npos);
}

TEST_CASE("a failed enrolment leaves no bundle behind", "[admin]") {
  // Defect: the signed bundle was written before the agent's row was inserted, so a failed
  // insert left a valid bundle for an agent the server does not know.
  Home h;
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((h.home / "anshin.db").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db,
                         "CREATE TRIGGER refuse_agents BEFORE INSERT ON agents BEGIN "
                         "SELECT RAISE(ABORT, 'injected: the insert fails'); END;",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  fs::path out = h.dir / "bundle";
  auto r = Cli(h.home, {"agent", "enroll", "--facility", "hikari-1", "--name", "hikari-1-pc",
                        "--out", out.string()});
  CHECK(r.code != 0);
  for (const char* f : {"agent.key", "agent.crt", "ca.crt", "card.key", "agent.toml"}) {
    INFO(f);
    CHECK_FALSE(fs::exists(out / f));
  }
  auto admin = Admin::Open(h.home, "tester").value();
  CHECK_FALSE(Read(*admin, [](store::ReadTxn& t) { return t.agents().Find("hikari-1-pc"); }));
  for (const auto& e : Read(*admin, [](store::ReadTxn& t) { return t.audit().List(); }))
    CHECK(e.action != "agent.enroll");
}

TEST_CASE("enrolment from a CSR keeps the key on the facility PC", "[admin]") {
  Home h;
  PrivateKey key = GenerateP256Key().value();
  X509_REQ* req = X509_REQ_new();
  X509_REQ_set_pubkey(req, key.get());
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("whatever"), -1, -1, 0);
  REQUIRE(X509_REQ_sign(req, key.get(), EVP_sha256()) > 0);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(bio, req);
  char* p = nullptr;
  long n = BIO_get_mem_data(bio, &p);
  REQUIRE(sys::WriteFileAtomic(h.dir / "agent.csr", std::string(p, n)).ok());
  BIO_free(bio);
  X509_REQ_free(req);

  fs::path out = h.dir / "bundle";
  auto r = Cli(h.home, {"agent", "enroll", "--facility", "hikari-1", "--name", "pc-2", "--out",
                        out.string(), "--csr", (h.dir / "agent.csr").string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_FALSE(fs::exists(out / "agent.key"));
  Certificate cert = LoadCert(out / "agent.crt");
  CHECK(X509_check_private_key(cert.get(), key.get()) == 1);
  char cn[128] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn);
  CHECK(std::string(cn) == "pc-2");  // the CA names the agent, not the CSR

  REQUIRE(
      sys::WriteFileAtomic(h.dir / "junk.csr", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n").ok());
  CHECK(Cli(h.home, {"agent", "enroll", "--facility", "hikari-1", "--name", "pc-3", "--out",
                     out.string(), "--csr", (h.dir / "junk.csr").string()})
            .code != 0);
}

TEST_CASE("card assign computes the token, retires the old card and bumps the allowlist",
          "[admin]") {
  Home h;
  auto c = Cli(h.home, {"child", "add", "--facility", "hikari-1", "--name", "練馬 さくら",
                        "--expected-departure", "mon=17:30,wed=18:00", "--format", "id"});
  REQUIRE(c.code == 0);
  const std::string child = c.out.substr(0, c.out.find('\n'));
  auto first = Cli(h.home, {"card", "assign", "--child", child, "--idm", "0123456789ABCDEF"});
  REQUIRE(first.code == 0);
  CardKey key = CardKey::Parse(sys::ReadFile(h.home / "card.key").value().substr(0, 64)).value();
  CHECK(first.out == key.TokenOf(Idm::Parse("0123456789abcdef").value()).hex() + "\n");
  auto admin = Admin::Open(h.home, "tester").value();
  auto version = [&] {
    return Read(*admin, [](store::ReadTxn& t) { return t.cards().AllowlistVersion(); });
  };
  const std::uint64_t v1 = version();

  auto second = Cli(h.home, {"card", "assign", "--child", child, "--idm", "1111111111111111"});
  REQUIRE(second.code == 0);
  const ChildId child_id{std::stoll(child)};
  auto cards = Read(*admin, [&](store::ReadTxn& t) { return t.cards().OfChild(child_id); });
  REQUIRE(cards.size() == 2);
  int active = 0, retired = 0;
  for (const auto& card : cards) (card.status == CardStatus::kActive ? active : retired)++;
  CHECK(active == 1);
  CHECK(retired == 1);
  CHECK(version() > v1);
  auto changes =
      Read(*admin, [&](store::ReadTxn& t) { return t.cards().AllowlistChangesSince(v1); });
  REQUIRE(changes.size() == 2);  // the first card removed, the second added

  auto sched = Read(*admin, [&](store::ReadTxn& t) { return t.children().Get(child_id); }).schedule;
  CHECK(sched.expected_departure[1] == LocalTime::HM(17, 30));
  CHECK(sched.expected_departure[3] == LocalTime::HM(18, 0));
  CHECK_FALSE(sched.expected_departure[2]);

  REQUIRE(Cli(h.home, {"card", "lost", "--child", child}).code == 0);
  CHECK(Cli(h.home, {"card", "lost", "--child", child}).code != 0);  // no active card any more
  CHECK(Cli(h.home, {"child", "add", "--facility", "hikari-1", "--name", "x",
                     "--expected-departure", "xyz=1", "--format", "id"})
            .code == 2);
}

TEST_CASE("guardian add validates the address and queues a verification mail", "[admin]") {
  Home h;
  auto c = Cli(h.home, {"child", "add", "--facility", "hikari-1", "--name", "練馬 さくら",
                        "--format", "id"});
  const std::string child = c.out.substr(0, c.out.find('\n'));
  CHECK(Cli(h.home,
            {"guardian", "add", "--child", child, "--email", "a@example.jp\r\nBcc: x@evil.example"})
            .code == 2);
  CHECK(Cli(h.home, {"guardian", "add", "--child", child, "--email", "not-an-address"}).code == 2);
  auto g = Cli(h.home, {"guardian", "add", "--child", child, "--email", "parent@example.jp",
                        "--no-arrival", "--iso-2022-jp", "--format", "id"});
  REQUIRE(g.code == 0);
  const std::int64_t gid = std::stoll(g.out);
  auto admin = Admin::Open(h.home, "tester").value();
  auto guardian =
      Read(*admin, [&](store::ReadTxn& t) { return t.guardians().Get(GuardianId{gid}); });
  CHECK_FALSE(guardian.verified);
  CHECK_FALSE(guardian.wants_arrival);
  CHECK(guardian.wants_departure);
  CHECK(guardian.charset == store::Charset::kIso2022Jp);
  auto items = store::InWrite(admin->store(), [](store::WriteTxn& t) {
                 return t.outbox().Claim(10, SystemClock().Now());
               }).value();
  REQUIRE(items.size() == 1);
  CHECK(items[0].message.kind == store::OutboxKind::kVerification);
  const std::string code = items[0].message.verification_code;
  const std::string wrong = code == "000000" ? "999999" : "000000";
  CHECK(Cli(h.home, {"guardian", "verify", "--guardian", std::to_string(gid), "--code", wrong})
            .code != 0);
  REQUIRE(
      Cli(h.home, {"guardian", "verify", "--guardian", std::to_string(gid), "--code", code}).code ==
      0);
  CHECK(
      Read(*admin, [&](store::ReadTxn& t) { return t.guardians().Get(GuardianId{gid}); }).verified);
}

TEST_CASE("every change is in the hash-chained audit log under the OS user", "[admin]") {
  Home h;
  auto c = Cli(h.home, {"child", "add", "--facility", "hikari-1", "--name", "練馬 さくら",
                        "--format", "id"});
  REQUIRE(c.code == 0);
  auto admin = Admin::Open(h.home, "tester").value();
  auto entries = Read(*admin, [](store::ReadTxn& t) { return t.audit().List(); });
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].action == "deployment.init");
  CHECK(entries[1].action == "facility.add");
  CHECK(entries[2].action == "child.add");
  for (const auto& e : entries) {
    CHECK(e.actor == OperatorName());
    CHECK(e.detail.find("さくら") == std::string::npos);  // no personal data in the log
  }
  auto v = Cli(h.home, {"audit", "verify"});
  CHECK(v.code == 0);
}

TEST_CASE("the CLI has help and refuses a home without a deployment", "[admin]") {
  fakes::TempDir dir{"admin-test"};
  auto help = Cli(dir.path(), {"--help"});
  CHECK(help.code == 0);
  CHECK(help.out.find("facility") != std::string::npos);
  auto r = Cli(dir.path(), {"facility", "list"});
  CHECK(r.code == 1);
  CHECK(r.err.find("init") != std::string::npos);
}

}  // namespace
}  // namespace anshin::admin

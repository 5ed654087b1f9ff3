// anshin-agent --check-config (CheckAgentConfig): every problem of a configuration and its
// enrolment files is listed, with real certificates made by the deployment's own PKI code.
#include "reader-agent/config_check.hpp"

#include <catch2/catch.hpp>

#include "common/sys/sys.hpp"
#include "provisioning/pki.hpp"
#include "reader-agent/curl_uplink.hpp"
#include "tests/agent/test_util.hpp"

namespace anshin::agent {
namespace {

using testing::TempDir;

const TimePoint kNow = FromUnixMillis(1'764'136'800'000);  // 2025-11-26T06:00:00Z

struct Ca {
  admin::PrivateKey key = admin::GenerateP256Key().value();
  admin::Certificate cert;
  explicit Ca(const std::string& name) {
    cert = admin::MakeCaCertificate(
               key.get(), {.common_name = name, .not_before = kNow - std::chrono::days(1)})
               .value();
  }
  std::string Pem() const { return admin::CertificatePem(cert.get()).value(); }
};

struct Agent {
  admin::PrivateKey key = admin::GenerateP256Key().value();
  admin::Certificate cert;
  Agent(const Ca& ca, const std::string& name, TimePoint not_before = kNow - std::chrono::days(1),
        std::chrono::days validity = std::chrono::days(825)) {
    cert = admin::IssueClientCertificate(
               ca.cert.get(), ca.key.get(), key.get(),
               {.common_name = name, .not_before = not_before, .validity = validity})
               .value();
  }
  std::string CertPem() const { return admin::CertificatePem(cert.get()).value(); }
  std::string KeyPem() const { return admin::PrivateKeyPem(key.get()).value(); }
};

// An enrolment bundle in a temp dir, written from the given pieces.
struct Bundle {
  TempDir dir;
  Ca ca{"anshin deployment CA"};
  Agent agent{ca, "hikarigaoka-1"};

  void Write(const std::string& cert, const std::string& key, const std::string& ca_pem,
             const std::string& extra = "") {
    dir.Write("card.key", std::string(64, 'a') + "\n");
    dir.Write("agent.crt", cert);
    dir.Write("agent.key", key);
    dir.Write("ca.crt", ca_pem);
    dir.Write("agent.toml", R"([agent]
name = "hikarigaoka-1"
card_key = "card.key"
database = "agent.db"
[reader]
device = "pn53x_usb:"
[uplink]
server_url = "https://anshin.example.jp:8443"
cert = "agent.crt"
key = "agent.key"
ca = "ca.crt"
)" + extra);
  }
  void WriteGood(const std::string& extra = "") {
    Write(agent.CertPem(), agent.KeyPem(), ca.Pem(), extra);
  }
  ConfigCheck Check(TimePoint now = kNow) {
    return CheckAgentConfig(dir.path() / "agent.toml", now);
  }
};

std::string Joined(const ConfigCheck& c) {
  std::string out;
  for (const auto& p : c.problems) out += p + "\n";
  return out;
}

TEST_CASE("a good bundle passes, with the certificate's expiry as a note", "[check-config]") {
  Bundle b;
  b.WriteGood();
  ConfigCheck c = b.Check();
  INFO(Joined(c));
  CHECK(c.problems.empty());
  REQUIRE(c.notes.size() == 2);
  CHECK_THAT(c.notes[0],
             Catch::Contains("agent \"hikarigaoka-1\"") && Catch::Contains("heartbeat off"));
  // 825 days from a day ago (the PKI back-dates notBefore by a few minutes for clock skew).
  CHECK_THAT(c.notes[1], Catch::Matches(".*valid until 2028-02-2.* \\(82[34] days\\)"));
}

TEST_CASE("a key of another certificate, another CA and a wrong name are all reported",
          "[check-config]") {
  Bundle b;
  Ca other("someone else's CA");
  Agent stranger(other, "hikarigaoka-2");
  // The certificate from another CA with its own name, the key of our agent.
  b.Write(stranger.CertPem(), b.agent.KeyPem(), b.ca.Pem());
  ConfigCheck c = b.Check();
  std::string all = Joined(c);
  INFO(all);
  CHECK_THAT(all,
             Catch::Contains("uplink.key:") && Catch::Contains("does not match the certificate"));
  CHECK_THAT(all, Catch::Contains("uplink.cert:") && Catch::Contains("was not issued by the CA"));
  CHECK_THAT(
      all,
      Catch::Contains(
          "agent.name: \"hikarigaoka-1\" is not the certificate's name (CN \"hikarigaoka-2\")"));
  CHECK(c.problems.size() == 3);
}

TEST_CASE("expired and not yet valid certificates are reported with their dates",
          "[check-config]") {
  Bundle b;
  b.WriteGood();
  auto later = b.Check(kNow + std::chrono::days(900));
  CHECK_THAT(Joined(later), Catch::Contains("uplink.cert: the certificate expired on "));
  auto earlier = b.Check(kNow - std::chrono::days(2));
  CHECK_THAT(Joined(earlier), Catch::Contains("uplink.cert: the certificate is not valid before"));
  CHECK_THAT(Joined(earlier), Catch::Contains("uplink.ca: the certificate is not valid before"));
}

TEST_CASE("files that are not PEM are named", "[check-config]") {
  Bundle b;
  b.Write("not a certificate", "not a key", "not a CA");
  std::string all = Joined(b.Check());
  INFO(all);
  CHECK_THAT(all, Catch::Contains("uplink.cert: ") && Catch::Contains("is not a PEM certificate"));
  CHECK_THAT(all, Catch::Contains("uplink.key: ") &&
                      Catch::Contains("is not an unencrypted PEM private key"));
  CHECK_THAT(all, Catch::Contains("uplink.ca: ") && Catch::Contains("holds no PEM certificate"));
}

TEST_CASE("every problem of the file and its surroundings is listed at once", "[check-config]") {
  Bundle b;
  b.WriteGood(R"(timeuot = "5s"
[feedback]
accepted = "/no/such/player ok.wav"
)");
  // Break the reader, the URL and the database folder as well.
  std::string toml = sys::ReadFile(b.dir.path() / "agent.toml").value();
  auto replace = [&](const std::string& from, const std::string& to) {
    toml.replace(toml.find(from), from.size(), to);
  };
  replace("device = \"pn53x_usb:\"", "device = \"pn532_uart:ttyUSB0\"");
  replace("https://anshin.example.jp:8443", "https://user:pw@anshin.example.jp:8443/?x=1");
  replace("database = \"agent.db\"", "database = \"no-such-dir/agent.db\"");
  b.dir.Write("agent.toml", toml);
  ConfigCheck c = b.Check();
  std::string all = Joined(c);
  INFO(all);
  CHECK_THAT(all,
             Catch::Contains("uplink.timeuot: unknown key (did you mean \"uplink.timeout\"?)"));
  CHECK_THAT(
      all, Catch::Contains(
               "reader.device: \"pn532_uart:ttyUSB0\": the port must be an absolute device path"));
  CHECK_THAT(all,
             Catch::Contains("uplink.server_url: ") && Catch::Contains("user name or password"));
  CHECK_THAT(all,
             Catch::Contains("agent.database: the folder ") && Catch::Contains("does not exist"));
  CHECK_THAT(all, Catch::Contains("feedback.accepted: the program \"/no/such/player\""));
  CHECK(c.problems.size() == 5);
}

TEST_CASE("server URLs are checked by libcurl's parser", "[check-config]") {
  for (const char* ok :
       {"https://anshin.example.jp", "https://anshin.example.jp:8443", "https://10.0.0.5:8443",
        "https://[2001:db8::1]:8443", "https://gw.example.jp/anshin"}) {
    INFO(ok);
    CHECK(CheckServerUrl(ok).ok());
  }
  for (const char* bad : {"http://anshin.example.jp", "https://", "https://a b", "https://x:99999",
                          "https://x#frag", "https://x?q", "https://u@x"}) {
    INFO(bad);
    auto s = CheckServerUrl(bad);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::StartsWith("uplink.server_url: "));
  }
}

}  // namespace
}  // namespace anshin::agent

// TLS policy probe (issue 12): the clients the agents listener must refuse, against the real
// anshin-server and a deployment made by the real anshin-admin. Refused at the handshake (no
// HTTP status at all): no client certificate, a certificate of another deployment's CA, a
// self-signed certificate with an enrolled agent's subject, an expired certificate of the right
// CA, TLS 1.1, TLS 1.2 with only non-AEAD (CBC) suites. Refused by the store with 401/403: a
// certificate of the right CA for a key that was never enrolled, a revoked agent, a disabled
// agent. The enrolled agent itself is served (the control that makes every case able to fail).
#include <curl/curl.h>

#include <catch2/catch.hpp>

#include "tests/hostile/cert_forge.hpp"
#include "tests/integration/server_harness.hpp"

namespace anshin::hostile {
namespace {

using namespace itest;

struct Fixture {
  Fixture() {
    dep.AddFacility("F1");
    a1 = dep.EnrollAgent("F1", "a1");
    std::int64_t child = dep.AddChild("F1", "Child");
    dep.AssignCard(child, "0102030405060708");
    server.Start(dep.WriteServerConfig(), dep.home() / "server.log");
    HttpClient client({a1, dep.ca_cert()});
    cards = FetchAllowlist(client, server);
  }
  HttpResult Upload(const AgentFiles& who, std::uint64_t seq) {
    HttpClient client({who, dep.ca_cert()});
    return client.Post(server.agents_url("/v1/taps"), MakeBatch("a1", seq, seq, cards));
  }
  AgentFiles As(const ForgedCert& forged) const {
    return AgentFiles{"a1", forged.cert, forged.key, dep.ca_cert()};
  }

  Deployment dep{"anshin-tls-probe"};
  AgentFiles a1;
  std::vector<std::string> cards;
  ServerProcess server;
};

void CheckRefusedAtHandshake(const HttpResult& r) {
  INFO("curl " << r.curl_code << " " << r.error << " status " << r.status << " " << r.body);
  CHECK(r.curl_code != 0);
  CHECK(r.status == 0);
}

// A TLS 1.2-at-most client offering only `ciphers` (OpenSSL names), with a1's certificate.
HttpResult ProbeCiphers(const Fixture& f, const std::string& ciphers) {
  CURL* c = curl_easy_init();
  const std::string url = f.server.agents_url("/healthz");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10'000L);
  curl_easy_setopt(c, CURLOPT_CAINFO, f.dep.ca_cert().c_str());
  curl_easy_setopt(c, CURLOPT_SSLCERT, f.a1.cert.c_str());
  curl_easy_setopt(c, CURLOPT_SSLKEY, f.a1.key.c_str());
  curl_easy_setopt(
      c, CURLOPT_SSLVERSION,
      static_cast<long>(CURL_SSLVERSION_TLSv1_2) | static_cast<long>(CURL_SSLVERSION_MAX_TLSv1_2));
  curl_easy_setopt(c, CURLOPT_SSL_CIPHER_LIST, ciphers.c_str());
  curl_easy_setopt(
      c, CURLOPT_WRITEFUNCTION, +[](char*, size_t size, size_t n, void*) { return size * n; });
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  HttpResult r;
  r.curl_code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  r.error = error;
  curl_easy_cleanup(c);
  return r;
}

TEST_CASE("the enrolled agent is served over TLS 1.2 AEAD and TLS 1.3", "[tls]") {
  Fixture f;
  CHECK(f.Upload(f.a1, 1).status == 200);
  CHECK(ProbeCiphers(f, "ECDHE-ECDSA-AES128-GCM-SHA256").status == 200);
  CHECK(f.server.Stop() == 0);
}

TEST_CASE("clients without an acceptable certificate are refused at the handshake", "[tls]") {
  Fixture f;
  CertForge forge(f.dep.ca_cert(), f.dep.home() / "pki" / "ca.key");
  SECTION("no client certificate") {
    HttpClient anonymous({std::nullopt, f.dep.ca_cert()});
    CheckRefusedAtHandshake(
        anonymous.Post(f.server.agents_url("/v1/taps"), MakeBatch("a1", 2, 2, f.cards)));
  }
  SECTION("a certificate from another deployment's CA, same agent name") {
    Deployment other("anshin-tls-probe-other");
    other.AddFacility("F1");
    CheckRefusedAtHandshake(f.Upload(other.EnrollAgent("F1", "a1"), 2));
  }
  SECTION("a self-signed certificate with the enrolled agent's subject") {
    ForgedCert self = forge.Issue(f.dep.home() / "self", "a1", -3600, 86'400, true);
    CheckRefusedAtHandshake(f.Upload(f.As(self), 2));
  }
  SECTION("an expired certificate of the deployment CA") {
    ForgedCert expired = forge.Issue(f.dep.home() / "expired", "a1", -10 * 86'400, -86'400);
    CheckRefusedAtHandshake(f.Upload(f.As(expired), 2));
  }
  SECTION("TLS 1.1 offered") {
    HttpClient old({f.a1, f.dep.ca_cert(), /*tls11_only=*/true});
    CheckRefusedAtHandshake(old.Get(f.server.agents_url("/healthz")));
  }
  SECTION("only non-AEAD (CBC) suites offered") {
    CheckRefusedAtHandshake(
        ProbeCiphers(f,
                     "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA:"
                     "ECDHE-ECDSA-AES256-SHA:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA"));
  }
  // Nothing refused reached the store.
  CHECK(QueryInt(f.dep.db(), "SELECT count(*) FROM taps") == 0);
  CHECK(f.server.Stop() == 0);
}

TEST_CASE("certificates the store does not accept are refused with 401 or 403", "[tls]") {
  Fixture f;
  REQUIRE(f.Upload(f.a1, 1).status == 200);
  SECTION("the deployment CA's certificate for a key that was never enrolled: 401") {
    CertForge forge(f.dep.ca_cert(), f.dep.home() / "pki" / "ca.key");
    ForgedCert unenrolled = forge.Issue(f.dep.home() / "unenrolled", "a1", -3600, 86'400);
    HttpResult r = f.Upload(f.As(unenrolled), 2);
    CHECK(r.status == 401);
    CHECK(r.body.find("SQL") == std::string::npos);
  }
  SECTION("a revoked agent: 403") {
    f.dep.Admin({"agent", "revoke", "a1"});
    CHECK(f.Upload(f.a1, 2).status == 403);
  }
  SECTION("a disabled agent: 403") {
    f.dep.Admin({"agent", "disable", "a1"});
    CHECK(f.Upload(f.a1, 2).status == 403);
  }
  CHECK(QueryInt(f.dep.db(), "SELECT count(*) FROM taps") == 1);
  CHECK(f.server.Stop() == 0);
}

}  // namespace
}  // namespace anshin::hostile

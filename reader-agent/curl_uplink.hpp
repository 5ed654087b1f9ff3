// CurlUplink: Uplink over libcurl with mutual TLS.
//
// The agent authenticates with its client certificate and key (issued at enrolment by the
// deployment CA) and trusts only the deployment CA for the server; peer and host name are
// verified, TLS 1.2 is the minimum, only https:// is allowed, and redirects are not followed.
// One curl easy handle per session, so the requests of a session share one connection and the
// connection closes when the session ends.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.hpp"
#include "common/time.hpp"
#include "reader-agent/uplink.hpp"

namespace anshin::agent {

struct CurlUplinkOptions {
  std::string server_url;  // "https://host:8443", no trailing slash
  std::filesystem::path cert, key, ca;
  Millis timeout{10'000};  // per request, connection included
  std::string user_agent;  // "anshin-agent/0.1.0"
};

// Whether `url` is a server URL the uplink accepts: https, a host, an optional port, an
// optional path prefix; no user name or password, query or fragment. Parsed by libcurl's URL
// API, as the requests will be. The error names uplink.server_url.
Status CheckServerUrl(std::string_view url);

class CurlUplink final : public Uplink {
 public:
  explicit CurlUplink(CurlUplinkOptions options);
  std::unique_ptr<UplinkSession> Begin() override;

 private:
  CurlUplinkOptions options_;
};

}  // namespace anshin::agent

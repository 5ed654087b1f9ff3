// Test harness for the server's integration tests: a deployment made with the real anshin-admin
// in a temp dir, the real anshin-server started as a child process on 127.0.0.1 (ports 0, read
// back from --ready-file), libcurl clients with the agents' certificates, and read-only SQLite
// queries on the server's database. Each test owns its deployment; tests run in parallel.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/wire.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::itest {

namespace fs = std::filesystem;

struct AgentFiles {
  std::string name;
  fs::path cert, key, ca;
};

// A deployment home made by `anshin-admin init` plus helpers for the admin commands.
class Deployment {
 public:
  explicit Deployment(const std::string& prefix = "anshin-itest");
  const fs::path& home() const { return dir_.path(); }
  fs::path db() const { return home() / "anshin.db"; }
  fs::path ca_cert() const { return home() / "pki" / "ca.crt"; }

  // Runs anshin-admin --home <home> args...; fails the test (throws) on a non-zero exit.
  std::string Admin(const std::vector<std::string>& args) const;
  void AddFacility(const std::string& code);
  AgentFiles EnrollAgent(const std::string& facility, const std::string& name);
  std::int64_t AddChild(const std::string& facility, const std::string& name);
  void AssignCard(std::int64_t child, const std::string& idm_hex);
  // Adds a guardian and verifies it with the code from its verification mail (outbox).
  std::int64_t AddVerifiedGuardian(std::int64_t child, const std::string& email);

  // Writes a server config with ephemeral ports and short timeouts; returns its path.
  fs::path WriteServerConfig(const std::string& extra_server_keys = "") const;

 private:
  fakes::TempDir dir_;
};

// The anshin-server child process.
class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the server and waits (up to 15 s) for its ready file. Throws on failure.
  void Start(const fs::path& config, const fs::path& log);
  // SIGTERM, then waits up to 20 s; returns the exit status (or -1 when killed / timed out).
  int Stop();
  // SIGKILL and reap.
  void Kill();
  bool running() const { return pid_ > 0; }
  std::uint16_t agents_port() const { return agents_port_; }
  std::uint16_t public_port() const { return public_port_; }
  std::uint16_t staff_port() const { return staff_port_; }  // 0: no staff_listen
  std::string agents_url(const std::string& path) const;
  std::string public_url(const std::string& path) const;

 private:
  pid_t pid_ = -1;
  std::uint16_t agents_port_ = 0;
  std::uint16_t public_port_ = 0;
  std::uint16_t staff_port_ = 0;
};

struct HttpResult {
  int curl_code = 0;  // CURLcode; 0 = a response was received
  long status = 0;
  std::string body;
  std::string error;
};

struct ClientOptions {
  std::optional<AgentFiles> identity;  // none: no client certificate
  fs::path ca;                         // to verify the server
  bool tls11_only = false;             // force TLS 1.1 (ciphers DEFAULT@SECLEVEL=0)
  bool fresh_connection = false;       // a new connection (and handshake) per request
  long timeout_ms = 15'000;
};

// One libcurl easy handle: connections and TLS sessions are reused between requests.
class HttpClient {
 public:
  explicit HttpClient(ClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult Get(const std::string& url);
  HttpResult Post(const std::string& url, const std::string& body,
                  const std::string& content_type = "application/json");

 private:
  HttpResult Perform();
  ClientOptions options_;
  void* curl_ = nullptr;
};

// A batch of taps seq first..last, cards chosen round-robin from `cards`, tapped at `at`.
std::string MakeBatch(const std::string& agent, std::uint64_t first, std::uint64_t last,
                      const std::vector<std::string>& cards,
                      std::chrono::system_clock::time_point at = std::chrono::system_clock::now());

// The tokens the allowlist holds (GET /v1/allowlist?since=0 with this client).
std::vector<std::string> FetchAllowlist(HttpClient& client, const ServerProcess& server);

// A single integer from a read-only query of the database.
std::int64_t QueryInt(const fs::path& db, const std::string& sql);
// A value of /metrics ("anshin_tls_handshake_failures_total"), or -1 when absent.
double MetricValue(const std::string& metrics_text, const std::string& series);

}  // namespace anshin::itest

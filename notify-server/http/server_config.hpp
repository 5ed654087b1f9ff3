// ServerConfig: the [server] and [tls] sections of anshin-server's TOML configuration
// (deploy/server.example.toml documents every key). The [mail] section belongs to the mailer and
// is read by its own loader from the same sys::Config.
//
// Loading is pure apart from what sys::Config already did (the file was read); every error names
// the key ("server.agents_listen: expected \"host:port\", got ...").
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "common/sys/sys.hpp"
#include "common/time.hpp"
#include "common/types.hpp"
#include "notify-server/http/connection_budget.hpp"

namespace anshin::server {

struct ListenAddress {
  std::string host;    // an IPv4 or IPv6 literal, or "localhost"
  std::uint16_t port;  // 0 = an ephemeral port chosen by the kernel
  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// "host:port", "[v6]:port". `key` names the setting in errors.
Result<ListenAddress> ParseListenAddress(std::string_view key, std::string_view text);

struct ServerConfig {
  ListenAddress agents_listen{"0.0.0.0", 8443};
  ListenAddress public_listen{"127.0.0.1", 8080};
  std::filesystem::path database;
  std::string log_level = "info";
  // server.log_format: "text" (logfmt) or "json" (common/sys/logging.hpp).
  sys::LogFormat log_format = sys::LogFormat::kText;
  int workers = 2;  // store worker threads
  // Each listener's own connection limits (connection_budget.hpp): server.agents_max_* and
  // server.public_max_{connections,pending,per_address}; server.public_trusted_proxies fills
  // public_limits.trusted_proxies (exempt from the per-address limit; their requests' client
  // address comes from X-Forwarded-For, router.hpp ClientAddress).
  ListenerLimits agents_limits{.max_connections = 1024, .max_pending = 256, .max_per_address = 0};
  ListenerLimits public_limits{.max_connections = 256, .max_pending = 64, .max_per_address = 8};
  Millis handshake_timeout{5'000};  // accept to end of TLS handshake / first byte of a request
  Millis idle_timeout{30'000};      // a keep-alive connection waiting for its next request
  Millis request_timeout{10'000};   // reading one request, writing one response
  bool synchronous_full = true;     // SQLite synchronous=FULL (true) or NORMAL
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;
  std::filesystem::path tls_client_ca;
  // [retention] (services/retention.hpp): months of taps, visits and send history kept, and
  // days a withdrawn child's personal data is kept; purged daily at 03:00.
  int retention_months = 13;
  int retention_withdrawn_grace_days = 90;
  // The staff console (docs/console.md): server.staff_listen ("" = off, the default), its own
  // connection limits (server.staff_max_*), and staff_tls.cert / staff_tls.key (empty: the
  // server certificate, tls.cert / tls.key).
  std::optional<ListenAddress> staff_listen;
  ListenerLimits staff_limits{.max_connections = 128, .max_pending = 32, .max_per_address = 16};
  std::filesystem::path staff_tls_cert;
  std::filesystem::path staff_tls_key;
  // [alerts] (services/alert_checks.hpp, notify-server/mail/staff_alert_mailer.hpp).
  int alerts_agent_silent_minutes = 20;
  int alerts_mail_stuck_minutes = 15;
  int alerts_repeat_hours = 24;
  int alerts_unusual_access_per_hour = 40;
  std::string alerts_console_url;  // the console's address in staff alert mails ("": none)
  // server.card_key: the deployment's card key file (64 hex digits, the `card.key` anshin-admin
  // init wrote). "" (the default): the console binds a replacement card by its token only; set,
  // it also takes the new card's IDm, turned into the token at once and never stored.
  std::filesystem::path card_key;
};

// Every key of [server], [tls] and [retention] (docs/configuration.md documents each; a test checks
// it).
const std::vector<std::string_view>& ServerConfigKeys();

// Fails naming the first key of the file that is neither one of [server] / [tls] (as documented
// above) nor in `other_keys` (the mailer's "mail.relay", ...).
Status RejectUnknownServerKeys(const sys::Config& config,
                               std::span<const std::string_view> other_keys);

// Reads [server] and [tls]; relative paths resolve against the config file's folder.
Result<ServerConfig> LoadServerConfig(const sys::Config& config);

// The card key server.card_key names (nullopt when it is not set); errors name the key and file.
Result<std::optional<CardKey>> LoadServerCardKey(const ServerConfig& config);

}  // namespace anshin::server

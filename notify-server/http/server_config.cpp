#include "notify-server/http/server_config.hpp"

#include "notify-server/http/net.hpp"

#include <charconv>
#include <tuple>
#include <vector>

namespace anshin::server {

Result<ListenAddress> ParseListenAddress(std::string_view key, std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(std::string(key) + ": expected \"host:port\" (" +
                                   std::string(why) + "), got \"" + std::string(text) + "\"");
  };
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("unterminated IPv6 literal");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("missing port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("put IPv6 hosts in brackets");
  }
  if (host.empty()) return bad("missing host");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return bad("port must be 0..65535");
  }
  return ListenAddress{std::string(host), static_cast<std::uint16_t>(value)};
}

const std::vector<std::string_view>& ServerConfigKeys() {
  static const std::vector<std::string_view> kKeys = {
      "server.agents_listen",
      "server.public_listen",
      "server.database",
      "server.log_level",
      "server.log_format",
      "server.workers",
      "server.agents_max_connections",
      "server.agents_max_pending",
      "server.agents_max_per_address",
      "server.public_max_connections",
      "server.public_max_pending",
      "server.public_max_per_address",
      "server.public_trusted_proxies",
      "server.handshake_timeout",
      "server.idle_timeout",
      "server.request_timeout",
      "server.synchronous",
      "tls.cert",
      "tls.key",
      "tls.client_ca",
      "retention.months",
      "retention.withdrawn_grace_days",
      "server.staff_listen",
      "server.staff_max_connections",
      "server.staff_max_pending",
      "server.staff_max_per_address",
      "staff_tls.cert",
      "staff_tls.key",
      "alerts.agent_silent_minutes",
      "alerts.mail_stuck_minutes",
      "alerts.repeat_hours",
      "alerts.unusual_access_per_hour",
      "alerts.console_url",
      "server.card_key",
  };
  return kKeys;
}

Status RejectUnknownServerKeys(const sys::Config& config,
                               std::span<const std::string_view> other_keys) {
  std::vector<std::string_view> known = ServerConfigKeys();
  known.insert(known.end(), other_keys.begin(), other_keys.end());
  return config.RejectUnknownKeys(std::span<const std::string_view>(known));
}

namespace {

// server.<listener>_max_connections, _max_pending, _max_per_address.
Result<ListenerLimits> LoadLimits(const sys::Config& config, const std::string& listener,
                                  const ListenerLimits& defaults) {
  ListenerLimits l = defaults;
  const std::string prefix = "server." + listener + "_max_";
  ANSHIN_ASSIGN_OR_RETURN(std::int64_t connections,
                          config.Int(prefix + "connections", l.max_connections, 1, 1'000'000));
  ANSHIN_ASSIGN_OR_RETURN(std::int64_t pending,
                          config.Int(prefix + "pending", l.max_pending, 1, 1'000'000));
  ANSHIN_ASSIGN_OR_RETURN(std::int64_t per_address,
                          config.Int(prefix + "per_address", l.max_per_address, 0, 1'000'000));
  if (pending > connections) {
    return Status::InvalidArgument(prefix + "pending: must not exceed " + prefix + "connections (" +
                                   std::to_string(connections) + ")");
  }
  l.max_connections = static_cast<int>(connections);
  l.max_pending = static_cast<int>(pending);
  l.max_per_address = static_cast<int>(per_address);
  return l;
}

// "127.0.0.1, ::1" -> each normalized as the network layer prints peer addresses.
Result<std::set<std::string>> ParseAddressList(const std::string& key, std::string_view text) {
  std::set<std::string> out;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string(item), ec);
    if (ec) {
      return Status::InvalidArgument(key + ": \"" + std::string(item) +
                                     "\" is not an IP address (a comma-separated list of IPs)");
    }
    out.insert(address.to_string());
  }
  return out;
}

}  // namespace

Result<ServerConfig> LoadServerConfig(const sys::Config& config) {
  ServerConfig c;
  ANSHIN_ASSIGN_OR_RETURN(std::string agents,
                          config.String("server.agents_listen", "0.0.0.0:8443"));
  ANSHIN_ASSIGN_OR_RETURN(c.agents_listen, ParseListenAddress("server.agents_listen", agents));
  ANSHIN_ASSIGN_OR_RETURN(std::string pub, config.String("server.public_listen", "127.0.0.1:8080"));
  ANSHIN_ASSIGN_OR_RETURN(c.public_listen, ParseListenAddress("server.public_listen", pub));
  ANSHIN_ASSIGN_OR_RETURN(c.database, config.Path("server.database", "anshin.db"));
  ANSHIN_ASSIGN_OR_RETURN(c.log_level, config.String("server.log_level", "info"));
  static constexpr std::string_view kLevels[] = {"trace", "debug",    "info", "warn",
                                                 "error", "critical", "off"};
  bool level_ok = false;
  for (auto l : kLevels) level_ok = level_ok || l == c.log_level;
  if (!level_ok) {
    return Status::InvalidArgument(
        "server.log_level: expected trace|debug|info|warn|error|critical|off, got \"" +
        c.log_level + "\"");
  }
  ANSHIN_ASSIGN_OR_RETURN(std::string log_format, config.String("server.log_format", "text"));
  ANSHIN_ASSIGN_OR_RETURN(c.log_format, sys::ParseLogFormat("server.log_format", log_format));
  ANSHIN_ASSIGN_OR_RETURN(std::int64_t workers, config.Int("server.workers", 2, 1, 64));
  c.workers = static_cast<int>(workers);
  ANSHIN_ASSIGN_OR_RETURN(c.agents_limits, LoadLimits(config, "agents", c.agents_limits));
  ANSHIN_ASSIGN_OR_RETURN(c.public_limits, LoadLimits(config, "public", c.public_limits));
  ANSHIN_ASSIGN_OR_RETURN(std::string proxies, config.String("server.public_trusted_proxies", ""));
  ANSHIN_ASSIGN_OR_RETURN(c.public_limits.trusted_proxies,
                          ParseAddressList("server.public_trusted_proxies", proxies));
  ANSHIN_ASSIGN_OR_RETURN(c.handshake_timeout,
                          config.Duration("server.handshake_timeout", Millis(5'000)));
  if (c.handshake_timeout <= Millis(0)) {
    return Status::InvalidArgument("server.handshake_timeout: must be positive");
  }
  ANSHIN_ASSIGN_OR_RETURN(c.idle_timeout, config.Duration("server.idle_timeout", Millis(30'000)));
  ANSHIN_ASSIGN_OR_RETURN(c.request_timeout,
                          config.Duration("server.request_timeout", Millis(10'000)));
  if (c.idle_timeout <= Millis(0)) {
    return Status::InvalidArgument("server.idle_timeout: must be positive");
  }
  if (c.request_timeout <= Millis(0)) {
    return Status::InvalidArgument("server.request_timeout: must be positive");
  }
  ANSHIN_ASSIGN_OR_RETURN(std::string sync, config.String("server.synchronous", "full"));
  if (sync == "full") {
    c.synchronous_full = true;
  } else if (sync == "normal") {
    c.synchronous_full = false;
  } else {
    return Status::InvalidArgument("server.synchronous: expected \"full\" or \"normal\", got \"" +
                                   sync + "\"");
  }
  ANSHIN_ASSIGN_OR_RETURN(c.tls_cert, config.Path("tls.cert", "pki/server.crt"));
  ANSHIN_ASSIGN_OR_RETURN(c.tls_key, config.Path("tls.key", "pki/server.key"));
  ANSHIN_ASSIGN_OR_RETURN(c.tls_client_ca, config.Path("tls.client_ca", "pki/ca.crt"));
  ANSHIN_ASSIGN_OR_RETURN(std::int64_t months, config.Int("retention.months", 13, 1, 120));
  ANSHIN_ASSIGN_OR_RETURN(std::int64_t grace,
                          config.Int("retention.withdrawn_grace_days", 90, 0, 3650));
  c.retention_months = static_cast<int>(months);
  c.retention_withdrawn_grace_days = static_cast<int>(grace);
  ANSHIN_ASSIGN_OR_RETURN(std::string staff, config.String("server.staff_listen", ""));
  if (!staff.empty()) {
    ANSHIN_ASSIGN_OR_RETURN(c.staff_listen, ParseListenAddress("server.staff_listen", staff));
  }
  ANSHIN_ASSIGN_OR_RETURN(c.staff_limits, LoadLimits(config, "staff", c.staff_limits));
  for (auto [key, path] : {std::pair{"staff_tls.cert", &c.staff_tls_cert},
                           std::pair{"staff_tls.key", &c.staff_tls_key}}) {
    ANSHIN_ASSIGN_OR_RETURN(std::string text, config.String(key, ""));
    if (!text.empty()) {
      ANSHIN_ASSIGN_OR_RETURN(*path, config.Path(key, text));
    }
  }
  if (c.staff_tls_cert.empty() != c.staff_tls_key.empty())
    return Status::InvalidArgument("staff_tls: give both cert and key, or neither");
  for (auto [key, field, def, lo, hi] :
       {std::tuple{"alerts.agent_silent_minutes", &c.alerts_agent_silent_minutes, 20, 5, 1440},
        std::tuple{"alerts.mail_stuck_minutes", &c.alerts_mail_stuck_minutes, 15, 5, 1440},
        std::tuple{"alerts.repeat_hours", &c.alerts_repeat_hours, 24, 1, 168},
        std::tuple{"alerts.unusual_access_per_hour", &c.alerts_unusual_access_per_hour, 40, 5,
                   10000}}) {
    ANSHIN_ASSIGN_OR_RETURN(std::int64_t v, config.Int(key, def, lo, hi));
    *field = static_cast<int>(v);
  }
  ANSHIN_ASSIGN_OR_RETURN(c.alerts_console_url, config.String("alerts.console_url", ""));
  if (!c.alerts_console_url.empty() && c.alerts_console_url.rfind("https://", 0) != 0)
    return Status::InvalidArgument(
        "alerts.console_url: give an https:// address (or leave it empty)");
  while (!c.alerts_console_url.empty() && c.alerts_console_url.back() == '/')
    c.alerts_console_url.pop_back();
  ANSHIN_ASSIGN_OR_RETURN(std::string card_key, config.String("server.card_key", ""));
  if (!card_key.empty()) {
    ANSHIN_ASSIGN_OR_RETURN(c.card_key, config.Path("server.card_key", card_key));
  }
  return c;
}

Result<std::optional<CardKey>> LoadServerCardKey(const ServerConfig& config) {
  if (config.card_key.empty()) return std::optional<CardKey>();
  const std::string where = "server.card_key: " + config.card_key.string();
  Result<std::string> text = sys::ReadFile(config.card_key);
  if (!text.ok()) return text.status().WithContext(where);
  Result<CardKey> key = CardKey::Parse(*text);
  if (!key.ok()) return key.status().WithContext(where);
  return std::optional<CardKey>(*key);
}

}  // namespace anshin::server

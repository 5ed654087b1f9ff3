#include "reader-agent/agent_config.hpp"

#include <algorithm>
#include <cctype>
#include <system_error>

namespace anshin::agent {
namespace {

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A file the agent must be able to read at start (certificates, keys).
Status RequireReadable(std::string_view key, const std::filesystem::path& path) {
  if (path.empty()) return Status::InvalidArgument(std::string(key) + ": required");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::InvalidArgument(std::string(key) + ": " + path.string() +
                                   " is not a readable file");
  }
  return Status::Ok();
}

Status LoadAgentSection(const sys::Config& c, ConfigUse use, AgentConfig& out) {
  ANSHIN_ASSIGN_OR_RETURN(out.database, c.Path("agent.database", out.database));
  if (use == ConfigUse::kStatus) return Status::Ok();
  ANSHIN_ASSIGN_OR_RETURN(out.name, c.String("agent.name", ""));
  if (out.name.empty()) return Status::InvalidArgument("agent.name: required");
  if (out.name.size() > 64) return Status::InvalidArgument("agent.name: longer than 64 bytes");
  ANSHIN_ASSIGN_OR_RETURN(out.card_key_path, c.Path("agent.card_key", ""));
  ANSHIN_RETURN_IF_ERROR(RequireReadable("agent.card_key", out.card_key_path));
  auto text = sys::ReadFile(out.card_key_path);
  if (!text.ok()) return Status::InvalidArgument("agent.card_key: " + text.status().message());
  auto key = CardKey::Parse(TrimSpace(*text));
  if (!key.ok()) {
    return Status::InvalidArgument("agent.card_key: " + out.card_key_path.string() + ": " +
                                   key.status().message());
  }
  out.card_key = *key;
  return Status::Ok();
}

Status LoadReaderSection(const sys::Config& c, AgentConfig& out) {
  ANSHIN_ASSIGN_OR_RETURN(out.device, c.String("reader.device", ""));
  ANSHIN_ASSIGN_OR_RETURN(out.poll_interval, c.Duration("reader.poll_interval", out.poll_interval));
  if (out.poll_interval < Millis(10) || out.poll_interval > Millis(5000)) {
    return Status::InvalidArgument("reader.poll_interval: must be between 10ms and 5s");
  }
  ANSHIN_ASSIGN_OR_RETURN(out.debounce, c.Duration("reader.debounce", out.debounce));
  if (out.debounce < Millis(0) || out.debounce > Millis(60'000)) {
    return Status::InvalidArgument("reader.debounce: must be between 0s and 60s");
  }
  ANSHIN_ASSIGN_OR_RETURN(out.reader_name, c.String("reader.name", out.reader_name));
  if (out.reader_name.empty() || out.reader_name.size() > 64) {
    return Status::InvalidArgument("reader.name: must be 1 to 64 bytes");
  }
  ANSHIN_ASSIGN_OR_RETURN(std::string direction, c.String("reader.direction", "auto"));
  auto d = ParseDirection(direction);
  if (!d.ok()) {
    return Status::InvalidArgument("reader.direction: expected auto, entry or exit, got \"" +
                                   direction + "\"");
  }
  out.direction = *d;
  return Status::Ok();
}

Status LoadUplinkSection(const sys::Config& c, AgentConfig& out) {
  ANSHIN_ASSIGN_OR_RETURN(out.server_url, c.String("uplink.server_url", ""));
  if (out.server_url.empty()) return Status::InvalidArgument("uplink.server_url: required");
  if (out.server_url.rfind("https://", 0) != 0 || out.server_url.size() <= 8) {
    return Status::InvalidArgument("uplink.server_url: must start with https://");
  }
  while (out.server_url.back() == '/') out.server_url.pop_back();
  ANSHIN_ASSIGN_OR_RETURN(out.cert, c.Path("uplink.cert", ""));
  ANSHIN_RETURN_IF_ERROR(RequireReadable("uplink.cert", out.cert));
  ANSHIN_ASSIGN_OR_RETURN(out.key, c.Path("uplink.key", ""));
  ANSHIN_RETURN_IF_ERROR(RequireReadable("uplink.key", out.key));
  ANSHIN_ASSIGN_OR_RETURN(out.ca, c.Path("uplink.ca", ""));
  ANSHIN_RETURN_IF_ERROR(RequireReadable("uplink.ca", out.ca));
  ANSHIN_ASSIGN_OR_RETURN(out.batch_size, c.Int("uplink.batch_size", out.batch_size, 1, 5000));
  ANSHIN_ASSIGN_OR_RETURN(out.timeout, c.Duration("uplink.timeout", out.timeout));
  if (out.timeout < Millis(100)) return Status::InvalidArgument("uplink.timeout: below 100ms");
  ANSHIN_ASSIGN_OR_RETURN(out.backoff_min, c.Duration("uplink.backoff_min", out.backoff_min));
  ANSHIN_ASSIGN_OR_RETURN(out.backoff_max, c.Duration("uplink.backoff_max", out.backoff_max));
  if (out.backoff_min < Millis(10)) {
    return Status::InvalidArgument("uplink.backoff_min: below 10ms");
  }
  if (out.backoff_max < out.backoff_min) {
    return Status::InvalidArgument("uplink.backoff_max: below uplink.backoff_min");
  }
  ANSHIN_ASSIGN_OR_RETURN(out.daily_health, c.Bool("uplink.daily_health", out.daily_health));
  ANSHIN_ASSIGN_OR_RETURN(out.unknown_card_refresh,
                          c.Duration("uplink.unknown_card_refresh", out.unknown_card_refresh));
  return Status::Ok();
}

Status LoadFeedbackSection(const sys::Config& c, AgentConfig& out) {
  ANSHIN_ASSIGN_OR_RETURN(out.accepted_command, c.String("feedback.accepted", ""));
  ANSHIN_ASSIGN_OR_RETURN(out.not_registered_command, c.String("feedback.not_registered", ""));
  ANSHIN_ASSIGN_OR_RETURN(out.reader_error_command, c.String("feedback.reader_error", ""));
  ANSHIN_ASSIGN_OR_RETURN(out.feedback_timeout,
                          c.Duration("feedback.timeout", out.feedback_timeout));
  if (out.feedback_timeout < Millis(100)) {
    return Status::InvalidArgument("feedback.timeout: below 100ms");
  }
  return Status::Ok();
}

}  // namespace

Result<AgentConfig> LoadAgentConfig(const sys::Config& c, ConfigUse use) {
  ANSHIN_RETURN_IF_ERROR(c.RejectUnknownKeys({
      "agent.name",
      "agent.database",
      "agent.card_key",
      "reader.device",
      "reader.poll_interval",
      "reader.debounce",
      "reader.name",
      "reader.direction",
      "uplink.server_url",
      "uplink.cert",
      "uplink.key",
      "uplink.ca",
      "uplink.batch_size",
      "uplink.timeout",
      "uplink.backoff_min",
      "uplink.backoff_max",
      "uplink.daily_health",
      "uplink.unknown_card_refresh",
      "feedback.accepted",
      "feedback.not_registered",
      "feedback.reader_error",
      "feedback.timeout",
      "log.level",
  }));
  AgentConfig out;
  ANSHIN_RETURN_IF_ERROR(LoadAgentSection(c, use, out));
  ANSHIN_ASSIGN_OR_RETURN(out.log_level, c.String("log.level", out.log_level));
  static constexpr std::string_view kLevels[] = {"trace", "debug",    "info", "warn",
                                                 "error", "critical", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), out.log_level) == std::end(kLevels)) {
    return Status::InvalidArgument(
        "log.level: expected trace, debug, info, warn, error or critical");
  }
  if (use == ConfigUse::kStatus) return out;
  ANSHIN_RETURN_IF_ERROR(LoadReaderSection(c, out));
  ANSHIN_RETURN_IF_ERROR(LoadUplinkSection(c, out));
  ANSHIN_RETURN_IF_ERROR(LoadFeedbackSection(c, out));
  return out;
}

}  // namespace anshin::agent

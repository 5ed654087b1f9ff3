#include "reader-agent/agent_config.hpp"

#include <algorithm>
#include <cctype>
#include <system_error>

#include "reader-agent/reader_factory.hpp"

namespace anshin::agent {
namespace {

// Every key of the agent's configuration (docs/configuration.md and deploy/agent.example.toml
// document each).
constexpr std::string_view kKnownKeys[] = {
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
    "uplink.heartbeat",
    "uplink.heartbeat_hours",
    "uplink.heartbeat_days",
    "uplink.unknown_card_refresh",
    "feedback.accepted",
    "feedback.not_registered",
    "feedback.reader_error",
    "feedback.see_staff",
    "feedback.timeout",
    "log.level",
    "log.format",
};

// Collects the problems of a configuration, so that every one is reported, not just the first.
class Problems {
 public:
  void Add(const Status& s) {
    if (!s.ok()) list_.push_back(s.message());
  }
  void Add(std::string message) { list_.push_back(std::move(message)); }
  // Stores the value, or records the error and leaves `out` at its default.
  template <typename T, typename U>
  bool Get(Result<T> r, U& out) {
    if (!r.ok()) {
      Add(r.status());
      return false;
    }
    out = std::move(r).value();
    return true;
  }
  std::vector<std::string> Take() { return std::move(list_); }

 private:
  std::vector<std::string> list_;
};

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

void LoadAgentSection(const sys::Config& c, ConfigUse use, AgentConfig& out, Problems& p) {
  p.Get(c.Path("agent.database", out.database), out.database);
  if (use == ConfigUse::kStatus) return;
  if (p.Get(c.String("agent.name", ""), out.name)) {
    if (out.name.empty()) p.Add("agent.name: required");
    if (out.name.size() > 64) p.Add("agent.name: longer than 64 bytes");
  }
  if (!p.Get(c.Path("agent.card_key", ""), out.card_key_path)) return;
  Status readable = RequireReadable("agent.card_key", out.card_key_path);
  if (!readable.ok()) return p.Add(readable);
  auto text = sys::ReadFile(out.card_key_path);
  if (!text.ok()) return p.Add("agent.card_key: " + text.status().message());
  auto key = CardKey::Parse(TrimSpace(*text));
  if (!key.ok()) {
    return p.Add("agent.card_key: " + out.card_key_path.string() + ": " + key.status().message());
  }
  out.card_key = *key;
}

void LoadReaderSection(const sys::Config& c, AgentConfig& out, Problems& p) {
  if (p.Get(c.String("reader.device", ""), out.device)) p.Add(CheckReaderDevice(out.device));
  if (p.Get(c.Duration("reader.poll_interval", out.poll_interval), out.poll_interval) &&
      (out.poll_interval < Millis(10) || out.poll_interval > Millis(5000))) {
    p.Add("reader.poll_interval: must be between 10ms and 5s");
  }
  if (p.Get(c.Duration("reader.debounce", out.debounce), out.debounce) &&
      (out.debounce < Millis(0) || out.debounce > Millis(60'000))) {
    p.Add("reader.debounce: must be between 0s and 60s");
  }
  if (p.Get(c.String("reader.name", out.reader_name), out.reader_name) &&
      (out.reader_name.empty() || out.reader_name.size() > 64)) {
    p.Add("reader.name: must be 1 to 64 bytes");
  }
  std::string direction;
  if (p.Get(c.String("reader.direction", "auto"), direction)) {
    auto d = ParseDirection(direction);
    if (d.ok()) {
      out.direction = *d;
    } else {
      p.Add("reader.direction: expected auto, entry or exit, got \"" + direction + "\"");
    }
  }
}

void LoadHeartbeat(const sys::Config& c, AgentConfig& out, Problems& p) {
  bool daily = false;
  p.Get(c.Bool("uplink.daily_health", false), daily);
  std::string interval, hours, days;
  bool ok = p.Get(c.String("uplink.heartbeat", "off"), interval);
  ok = p.Get(c.String("uplink.heartbeat_hours", ""), hours) && ok;
  ok = p.Get(c.String("uplink.heartbeat_days", "mon-sat"), days) && ok;
  if (!ok) return;
  if (!p.Get(HeartbeatSchedule::Parse(interval, hours, days), out.heartbeat)) return;
  if (daily && out.heartbeat.enabled()) {
    p.Add("uplink.daily_health: cannot be combined with uplink.heartbeat (use heartbeat)");
  } else if (daily) {
    out.heartbeat = HeartbeatSchedule::Daily();
  }
}

void LoadUplinkSection(const sys::Config& c, AgentConfig& out, Problems& p) {
  if (p.Get(c.String("uplink.server_url", ""), out.server_url)) {
    if (out.server_url.empty()) {
      p.Add("uplink.server_url: required");
    } else if (out.server_url.rfind("https://", 0) != 0 || out.server_url.size() <= 8) {
      p.Add("uplink.server_url: must start with https://");
    } else {
      while (out.server_url.back() == '/') out.server_url.pop_back();
    }
  }
  for (auto [key, path] : {std::pair{"uplink.cert", &out.cert}, std::pair{"uplink.key", &out.key},
                           std::pair{"uplink.ca", &out.ca}}) {
    if (p.Get(c.Path(key, ""), *path)) p.Add(RequireReadable(key, *path));
  }
  p.Get(c.Int("uplink.batch_size", out.batch_size, 1, 5000), out.batch_size);
  if (p.Get(c.Duration("uplink.timeout", out.timeout), out.timeout) && out.timeout < Millis(100)) {
    p.Add("uplink.timeout: below 100ms");
  }
  bool min_ok = p.Get(c.Duration("uplink.backoff_min", out.backoff_min), out.backoff_min);
  bool max_ok = p.Get(c.Duration("uplink.backoff_max", out.backoff_max), out.backoff_max);
  if (min_ok && out.backoff_min < Millis(10)) p.Add("uplink.backoff_min: below 10ms");
  if (min_ok && max_ok && out.backoff_max < out.backoff_min) {
    p.Add("uplink.backoff_max: below uplink.backoff_min");
  }
  LoadHeartbeat(c, out, p);
  p.Get(c.Duration("uplink.unknown_card_refresh", out.unknown_card_refresh),
        out.unknown_card_refresh);
}

void LoadFeedbackSection(const sys::Config& c, AgentConfig& out, Problems& p) {
  p.Get(c.String("feedback.accepted", ""), out.accepted_command);
  p.Get(c.String("feedback.not_registered", ""), out.not_registered_command);
  p.Get(c.String("feedback.reader_error", ""), out.reader_error_command);
  p.Get(c.String("feedback.see_staff", ""), out.see_staff_command);
  if (p.Get(c.Duration("feedback.timeout", out.feedback_timeout), out.feedback_timeout) &&
      out.feedback_timeout < Millis(100)) {
    p.Add("feedback.timeout: below 100ms");
  }
}

void LoadLogSection(const sys::Config& c, AgentConfig& out, Problems& p) {
  if (p.Get(c.String("log.level", out.log_level), out.log_level)) {
    p.Add(sys::ParseLogLevel("log.level", out.log_level).status());
  }
  std::string format;
  if (p.Get(c.String("log.format", "text"), format)) {
    p.Get(sys::ParseLogFormat("log.format", format), out.log_format);
  }
}

}  // namespace

std::span<const std::string_view> AgentConfigKeys() { return kKnownKeys; }

std::vector<std::string> UnknownAgentKeys(const sys::Config& c) {
  std::vector<std::string> out;
  for (const std::string& key : c.UnknownKeys(kKnownKeys)) {
    std::string message = key + ": unknown key";
    if (std::string near = sys::NearestKey(key, kKnownKeys); !near.empty()) {
      message += " (did you mean \"" + near + "\"?)";
    }
    out.push_back(std::move(message));
  }
  return out;
}

AgentConfigLoad LoadAgentConfigAll(const sys::Config& c, ConfigUse use) {
  AgentConfigLoad load;
  Problems p;
  for (std::string& u : UnknownAgentKeys(c)) p.Add(std::move(u));
  LoadAgentSection(c, use, load.config, p);
  LoadLogSection(c, load.config, p);
  if (use == ConfigUse::kRun) {
    LoadReaderSection(c, load.config, p);
    LoadUplinkSection(c, load.config, p);
    LoadFeedbackSection(c, load.config, p);
  }
  load.problems = p.Take();
  return load;
}

Result<AgentConfig> LoadAgentConfig(const sys::Config& c, ConfigUse use) {
  AgentConfigLoad load = LoadAgentConfigAll(c, use);
  if (load.problems.empty()) return std::move(load.config);
  std::string message = c.source() + ": ";
  for (std::size_t i = 0; i < load.problems.size(); ++i) {
    if (i > 0) message += "; ";
    message += load.problems[i];
  }
  return Status::InvalidArgument(message);
}

}  // namespace anshin::agent

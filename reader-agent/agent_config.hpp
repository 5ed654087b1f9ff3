// AgentConfig: the agent's settings, read from its TOML file (deploy/agent.example.toml
// documents every key and default). Loading validates everything up front and reports every
// problem, each naming its key ("uplink.server_url: must start with https://", "agent.nmae:
// unknown key (did you mean \"agent.name\"?)"); main() turns them into a non-zero exit.
// A plain value type.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/engine.hpp"
#include "common/status.hpp"
#include "common/sys/sys.hpp"
#include "common/time.hpp"
#include "common/types.hpp"
#include "reader-agent/heartbeat.hpp"

namespace anshin::agent {

struct AgentConfig {
  // [agent]
  std::string name;  // the agent's name, as in its certificate
  std::filesystem::path database = "/var/lib/anshin-agent/agent.db";
  std::filesystem::path card_key_path;  // file holding the deployment card key (64 hex digits)
  std::optional<CardKey> card_key;      // loaded from card_key_path

  // [reader]
  std::string device;  // "" = libnfc default; "simulated:PATH"; "simulated-fifo:PATH"
  Millis poll_interval{100};
  Millis debounce{2000};
  std::string reader_name = "entrance";  // wire Tap.reader
  Direction direction = Direction::kAuto;

  // [uplink]
  std::string server_url;  // https://host:8443
  std::filesystem::path cert, key, ca;
  std::int64_t batch_size = 100;
  Millis timeout{10'000};
  Millis backoff_min{1'000};
  Millis backoff_max{300'000};
  // Health-only contacts without taps (off by default; docs/agent.md "Heartbeat").
  // `uplink.daily_health = true` is the older spelling of a 24h heartbeat at any hour.
  HeartbeatSchedule heartbeat;
  // A card not in the allowlist refreshes it at once when the last refresh is at least this
  // old; 0 disables (then only upload sessions refresh it).
  Millis unknown_card_refresh{600'000};

  // [feedback]
  std::string accepted_command;
  std::string not_registered_command;
  std::string reader_error_command;
  std::string see_staff_command;  // a lost card's tap (saved, the staff alerted)
  Millis feedback_timeout{5'000};

  // [log]
  std::string log_level = "info";
  sys::LogFormat log_format = sys::LogFormat::kText;
};

// What the keys are for: `run` needs everything; `status` only the database.
enum class ConfigUse { kRun, kStatus };

// Every problem, section by section; the config is usable only when there is none.
struct AgentConfigLoad {
  AgentConfig config;
  std::vector<std::string> problems;  // "key: what is wrong"
};
AgentConfigLoad LoadAgentConfigAll(const sys::Config& config, ConfigUse use);

// The config, or InvalidArgument listing every problem ("FILE: p1; p2").
Result<AgentConfig> LoadAgentConfig(const sys::Config& config, ConfigUse use);

// Every key of the agent's configuration (docs/configuration.md documents each; a test checks
// it).
std::span<const std::string_view> AgentConfigKeys();

// "key: unknown key (did you mean \"known.key\"?)" for each key that is not the agent's.
std::vector<std::string> UnknownAgentKeys(const sys::Config& config);

}  // namespace anshin::agent

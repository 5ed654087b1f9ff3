// AgentConfig: the agent's settings, read from its TOML file (deploy/agent.example.toml
// documents every key and default). Loading validates everything up front; an error names the
// offending key ("uplink.server_url: must start with https://"), and main() turns it into a
// non-zero exit. A plain value type.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/engine.hpp"
#include "common/status.hpp"
#include "common/sys/sys.hpp"
#include "common/time.hpp"
#include "common/types.hpp"

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
  bool daily_health = false;
  // A card not in the allowlist refreshes it at once when the last refresh is at least this
  // old; 0 disables (then only upload sessions refresh it).
  Millis unknown_card_refresh{600'000};

  // [feedback]
  std::string accepted_command;
  std::string not_registered_command;
  std::string reader_error_command;
  Millis feedback_timeout{5'000};

  // [log]
  std::string log_level = "info";
};

// What the keys are for: `run` needs everything; `status` only the database.
enum class ConfigUse { kRun, kStatus };

Result<AgentConfig> LoadAgentConfig(const sys::Config& config, ConfigUse use);

}  // namespace anshin::agent

#include "reader-agent/agent_config.hpp"

#include <catch2/catch.hpp>

#include "reader-agent/reader_factory.hpp"
#include "tests/agent/test_util.hpp"

namespace anshin::agent {
namespace {

using testing::TempDir;

// A directory with the enrolment files and a config that uses them.
struct Enrolled {
  TempDir dir;
  Enrolled() {
    dir.Write("card.key", std::string(64, 'a') + "\n");
    dir.Write("agent.crt", "x");
    dir.Write("agent.key", "x");
    dir.Write("ca.crt", "x");
  }
  Result<AgentConfig> Load(const std::string& extra, ConfigUse use = ConfigUse::kRun,
                           bool base = true) {
    std::string text = base ? R"(
[agent]
name = "hikarigaoka-1"
card_key = "card.key"
database = "agent.db"
[uplink]
server_url = "https://anshin.example:8443/"
cert = "agent.crt"
key = "agent.key"
ca = "ca.crt"
)"
                            : "";
    auto path = dir.Write("agent.toml", text + extra);
    auto config = sys::Config::Load(path);
    if (!config.ok()) return config.status();
    return LoadAgentConfig(*config, use);
  }
};

}  // namespace

TEST_CASE("a minimal config gets the documented defaults", "[config]") {
  Enrolled e;
  auto c = e.Load("");
  REQUIRE(c.ok());
  CHECK(c->name == "hikarigaoka-1");
  CHECK(c->database == e.dir.path() / "agent.db");
  CHECK(c->card_key.has_value());
  CHECK(c->server_url == "https://anshin.example:8443");
  CHECK(c->device.empty());
  CHECK(c->poll_interval == Millis(100));
  CHECK(c->debounce == Millis(2000));
  CHECK(c->reader_name == "entrance");
  CHECK(c->direction == Direction::kAuto);
  CHECK(c->batch_size == 100);
  CHECK(c->timeout == Millis(10'000));
  CHECK(c->backoff_min == Millis(1000));
  CHECK(c->backoff_max == Millis(300'000));
  CHECK_FALSE(c->heartbeat.enabled());
  CHECK(c->log_format == sys::LogFormat::kText);
  CHECK(c->unknown_card_refresh == Millis(600'000));
  CHECK(c->accepted_command.empty());
  CHECK(c->log_level == "info");
}

TEST_CASE("every section is read", "[config]") {
  Enrolled e;
  auto c = e.Load(R"(
[reader]
device = "simulated-fifo:/run/taps"
poll_interval = "50ms"
debounce = "3s"
name = "back-door"
direction = "exit"
[feedback]
accepted = "aplay /usr/share/anshin/ok.wav"
timeout = "2s"
[log]
level = "debug"
)");
  REQUIRE(c.ok());
  CHECK(c->device == "simulated-fifo:/run/taps");
  CHECK(c->poll_interval == Millis(50));
  CHECK(c->debounce == Millis(3000));
  CHECK(c->reader_name == "back-door");
  CHECK(c->direction == Direction::kExit);
  CHECK(c->accepted_command == "aplay /usr/share/anshin/ok.wav");
  CHECK(c->feedback_timeout == Millis(2000));
  CHECK(c->log_level == "debug");
}

TEST_CASE("bad configs fail naming the key", "[config]") {
  Enrolled e;
  struct Case {
    std::string text;
    std::string key;
  };
  std::vector<Case> cases = {
      {"[reader]\npoll_interval = \"1ms\"\n", "reader.poll_interval"},
      {"[reader]\ndebounce = \"soon\"\n", "reader.debounce"},
      {"[reader]\ndirection = \"sideways\"\n", "reader.direction"},
      {"[reader]\ndevise = \"x\"\n", "reader.devise"},
      {"[log]\nlevel = \"loud\"\n", "log.level"},
      {"[feedback]\ntimeout = 5\naccepted = 3\n", "feedback.accepted"},
  };
  for (const auto& c : cases) {
    auto r = e.Load(c.text);
    INFO(c.text);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains(c.key));
  }
}

TEST_CASE("uplink and enrolment keys are checked", "[config]") {
  Enrolled e;
  auto load = [&](const std::string& uplink_extra, const std::string& card_key = "card.key") {
    return e.Load("[agent]\nname = \"a\"\ncard_key = \"" + card_key +
                      "\"\n[uplink]\ncert = \"agent.crt\"\nkey = \"agent.key\"\nca = \"ca.crt\"\n" +
                      uplink_extra,
                  ConfigUse::kRun, false);
  };
  CHECK_THAT(load("").status().message(), Catch::Contains("uplink.server_url: required"));
  CHECK_THAT(load("server_url = \"http://x:8443\"\n").status().message(),
             Catch::Contains("uplink.server_url"));
  CHECK_THAT(load("server_url = \"https://x\"\nbatch_size = 0\n").status().message(),
             Catch::Contains("uplink.batch_size"));
  CHECK_THAT(load("server_url = \"https://x\"\nbackoff_min = \"10s\"\nbackoff_max = \"1s\"\n")
                 .status()
                 .message(),
             Catch::Contains("uplink.backoff_max"));
  CHECK_THAT(load("server_url = \"https://x\"\n", "missing.key").status().message(),
             Catch::Contains("agent.card_key"));
  e.dir.Write("short.key", "abcd");
  CHECK_THAT(load("server_url = \"https://x\"\n", "short.key").status().message(),
             Catch::Contains("agent.card_key"));
  CHECK_THAT(
      load("server_url = \"https://x\"\nunknown_card_refresh = \"soon\"\n").status().message(),
      Catch::Contains("uplink.unknown_card_refresh"));
  CHECK(load("server_url = \"https://x\"\nunknown_card_refresh = \"0\"\n")
            .value()
            .unknown_card_refresh == Millis(0));
  CHECK(load("server_url = \"https://x\"\nunknown_card_refresh = \"90s\"\n")
            .value()
            .unknown_card_refresh == Millis(90'000));
  CHECK(load("server_url = \"https://x\"\n").ok());
  auto no_name = e.Load("", ConfigUse::kRun, false);
  CHECK_THAT(no_name.status().message(), Catch::Contains("agent.name"));
}

TEST_CASE("every problem is reported, not just the first", "[config]") {
  Enrolled e;
  auto all = LoadAgentConfigAll(sys::Config::Parse(R"(
[agent]
nmae = "x"
card_key = "missing.key"
[reader]
poll_interval = "1ms"
device = "pn53x_ubs:"
[uplink]
server_url = "http://x"
hearbeat = "30m"
batch_size = 0
[log]
format = "xml"
)",
                                                   (e.dir.path() / "agent.toml").string())
                                    .value(),
                                ConfigUse::kRun);
  std::string joined;
  for (const auto& p : all.problems) joined += p + "\n";
  INFO(joined);
  for (const char* expected : {
           "agent.nmae: unknown key (did you mean \"agent.name\"?)",
           "uplink.hearbeat: unknown key (did you mean \"uplink.heartbeat\"?)",
           "agent.name: required",
           "agent.card_key:",
           "reader.poll_interval:",
           "reader.device: \"pn53x_ubs:\": unknown libnfc driver",
           "uplink.server_url: must start with https://",
           "uplink.cert: required",
           "uplink.key: required",
           "uplink.ca: required",
           "uplink.batch_size:",
           "log.format: expected \"text\" or \"json\"",
       }) {
    CHECK_THAT(joined, Catch::Contains(expected));
  }
  CHECK(all.problems.size() == 12);
  // LoadAgentConfig fails with all of them in one message.
  auto r = LoadAgentConfig(sys::Config::Parse("[agent]\nnmae = 1\n[uplink]\nbatch = 1\n").value(),
                           ConfigUse::kRun);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(),
             Catch::Contains("agent.nmae") && Catch::Contains("uplink.batch"));
}

TEST_CASE("heartbeat, daily_health and log.format keys", "[config]") {
  Enrolled e;
  auto c = e.Load(R"(heartbeat = "30m"
heartbeat_hours = "13:00-19:00"
heartbeat_days = "mon-fri"
[log]
format = "json"
)");
  REQUIRE(c.ok());
  CHECK(c->heartbeat.interval == Millis(1'800'000));
  CHECK(c->heartbeat.from == LocalTime::HM(13, 0));
  CHECK_FALSE(c->heartbeat.days[6]);
  CHECK(c->log_format == sys::LogFormat::kJson);
  auto daily = e.Load("daily_health = true\n");
  REQUIRE(daily.ok());
  CHECK(daily->heartbeat.interval == std::chrono::hours(24));
  CHECK(daily->heartbeat.InHours(FromUnixMillis(0), 0));  // any hour
  auto both =
      e.Load("daily_health = true\nheartbeat = \"1h\"\nheartbeat_hours = \"08:00-18:00\"\n");
  REQUIRE_FALSE(both.ok());
  CHECK_THAT(both.status().message(), Catch::Contains("uplink.daily_health"));
  auto no_hours = e.Load("heartbeat = \"1h\"\n");
  REQUIRE_FALSE(no_hours.ok());
  CHECK_THAT(no_hours.status().message(), Catch::Contains("uplink.heartbeat_hours: required"));
}

TEST_CASE("reader.device must be a well-formed connstring", "[config]") {
  for (const char* ok :
       {"", "pn53x_usb", "pn53x_usb:", "pn53x_usb:001:005",
        "acr122_usb:", "pn532_uart:/dev/ttyUSB0", "pn532_uart:/dev/ttyACM0:115200",
        "pn532_i2c:/dev/i2c-1", "simulated:/tmp/taps.txt", "simulated-fifo:/tmp/taps.fifo"}) {
    INFO(ok);
    CHECK(CheckReaderDevice(ok).ok());
  }
  for (const char* bad : {"pasori", "pn532_uart:ttyUSB0", "pn532_uart:/dev/ttyUSB0:fast",
                          "pn53x_usb:bus1", "simulated:", "simulated-fifo:", "usb:"}) {
    INFO(bad);
    auto s = CheckReaderDevice(bad);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::StartsWith("reader.device: "));
  }
}

TEST_CASE("status needs only the database", "[config]") {
  Enrolled e;
  auto c = e.Load("[agent]\ndatabase = \"/var/lib/x/agent.db\"\n", ConfigUse::kStatus, false);
  REQUIRE(c.ok());
  CHECK(c->database == "/var/lib/x/agent.db");
}

}  // namespace anshin::agent

namespace anshin::agent {

TEST_CASE("deploy/agent.example.toml loads and shows the defaults", "[config]") {
  Enrolled e;
  auto text = sys::ReadFile(ANSHIN_AGENT_EXAMPLE_CONFIG);
  REQUIRE(text.ok());
  auto path = e.dir.Write("example.toml", *text);
  auto file = sys::Config::Load(path);
  REQUIRE(file.ok());
  auto c = LoadAgentConfig(*file, ConfigUse::kRun);
  REQUIRE(c.ok());
  AgentConfig defaults;
  CHECK(c->database == defaults.database);
  CHECK(c->poll_interval == defaults.poll_interval);
  CHECK(c->debounce == defaults.debounce);
  CHECK(c->batch_size == defaults.batch_size);
  CHECK(c->timeout == defaults.timeout);
  CHECK(c->backoff_min == defaults.backoff_min);
  CHECK(c->backoff_max == defaults.backoff_max);
  CHECK(c->heartbeat.enabled() == defaults.heartbeat.enabled());
  CHECK(c->log_format == defaults.log_format);
  CHECK(c->unknown_card_refresh == defaults.unknown_card_refresh);
  CHECK(c->feedback_timeout == defaults.feedback_timeout);
  CHECK(c->log_level == defaults.log_level);
}

}  // namespace anshin::agent

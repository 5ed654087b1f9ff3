// server.log_format in anshin-server's configuration: "text" by default, "json" when asked,
// anything else refused naming the key.
#include <catch2/catch.hpp>

#include "notify-server/http/server_config.hpp"

namespace anshin::server {
namespace {

Result<ServerConfig> Load(const std::string& text) {
  auto config = sys::Config::Parse(text);
  if (!config.ok()) return config.status();
  ANSHIN_RETURN_IF_ERROR(RejectUnknownServerKeys(*config, {}));
  return LoadServerConfig(*config);
}

TEST_CASE("server.log_format selects text or json", "[logging]") {
  CHECK(Load("").value().log_format == sys::LogFormat::kText);
  CHECK(Load("[server]\nlog_format = \"json\"\n").value().log_format == sys::LogFormat::kJson);
  auto bad = Load("[server]\nlog_format = \"yaml\"\n");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::StartsWith("server.log_format: "));
}

}  // namespace
}  // namespace anshin::server

#include "reader-agent/config_check.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "common/sys/cert_check.hpp"
#include "reader-agent/agent_config.hpp"
#include "reader-agent/curl_uplink.hpp"
#include "reader-agent/feedback.hpp"

namespace anshin::agent {
namespace {

void CheckCertificates(const AgentConfig& c, TimePoint now, ConfigCheck& out) {
  sys::CertificateFacts facts =
      sys::CheckCertificateFiles(sys::CertificateFiles{.cert_key = "uplink.cert",
                                                       .key_key = "uplink.key",
                                                       .ca_key = "uplink.ca",
                                                       .cert = c.cert,
                                                       .key = c.key,
                                                       .ca = c.ca},
                                 now, out.problems);
  if (!c.name.empty() && !facts.common_name.empty() && facts.common_name != c.name) {
    out.problems.push_back("agent.name: \"" + c.name + "\" is not the certificate's name (CN \"" +
                           facts.common_name +
                           "\"); the server knows the agent by its certificate");
  }
  if (facts.not_after) {
    out.notes.push_back("certificate of \"" + facts.common_name + "\" " +
                        sys::DescribeExpiry(*facts.not_after, now));
  }
}

// The database's folder must exist and be writable (by the user running the check).
void CheckDatabase(const AgentConfig& c, std::vector<std::string>& problems) {
  std::filesystem::path dir = c.database.parent_path();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    problems.push_back("agent.database: the folder " + dir.string() + " does not exist");
  } else if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    problems.push_back("agent.database: the folder " + dir.string() +
                       " is not writable by this user (uid " + std::to_string(::geteuid()) +
                       "; run the check as the service user)");
  }
}

// A feedback command must split and name a program that exists.
void CheckCommand(std::string_view key, const std::string& command,
                  std::vector<std::string>& problems) {
  if (command.empty()) return;
  auto argv = SplitCommand(command);
  if (!argv.ok()) {
    problems.push_back(std::string(key) + ": " + argv.status().message());
    return;
  }
  if (argv->empty()) return;
  const std::string& program = argv->front();
  auto executable = [](const std::filesystem::path& p) { return ::access(p.c_str(), X_OK) == 0; };
  bool found = false;
  if (program.find('/') != std::string::npos) {
    found = executable(program);
  } else if (const char* path = std::getenv("PATH")) {
    std::string_view rest = path;
    while (!found) {
      auto colon = rest.find(':');
      std::string_view dir = rest.substr(0, colon);
      if (!dir.empty()) found = executable(std::filesystem::path(dir) / program);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  if (!found) {
    problems.push_back(std::string(key) + ": the program \"" + program +
                       "\" is not found or not executable");
  }
}

}  // namespace

ConfigCheck CheckAgentConfig(const std::filesystem::path& config_path, TimePoint now) {
  ConfigCheck out;
  auto file = sys::Config::Load(config_path);
  if (!file.ok()) {
    out.problems.push_back(file.status().message());
    return out;
  }
  AgentConfigLoad load = LoadAgentConfigAll(*file, ConfigUse::kRun);
  out.problems = std::move(load.problems);
  const AgentConfig& c = load.config;
  if (!c.server_url.empty()) {
    if (Status s = CheckServerUrl(c.server_url); !s.ok()) out.problems.push_back(s.message());
  }
  std::error_code ec;
  bool files = !c.cert.empty() && !c.key.empty() && !c.ca.empty() &&
               std::filesystem::is_regular_file(c.cert, ec) &&
               std::filesystem::is_regular_file(c.key, ec) &&
               std::filesystem::is_regular_file(c.ca, ec);
  if (files) CheckCertificates(c, now, out);
  CheckDatabase(c, out.problems);
  CheckCommand("feedback.accepted", c.accepted_command, out.problems);
  CheckCommand("feedback.not_registered", c.not_registered_command, out.problems);
  CheckCommand("feedback.reader_error", c.reader_error_command, out.problems);
  CheckCommand("feedback.see_staff", c.see_staff_command, out.problems);
  if (out.problems.empty()) {
    out.notes.insert(out.notes.begin(),
                     "agent \"" + c.name + "\", server " + c.server_url + ", reader " +
                         (c.device.empty() ? std::string("(libnfc's default)") : c.device) +
                         ", heartbeat " +
                         (c.heartbeat.enabled()
                              ? "every " + std::to_string(c.heartbeat.interval.count() / 1000) +
                                    " s in opening hours"
                              : std::string("off")));
  }
  return out;
}

}  // namespace anshin::agent

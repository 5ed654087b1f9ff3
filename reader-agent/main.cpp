// anshin-agent: the reader agent of a facility PC. Wires the real implementations together;
// everything else lives in anshin_agent_lib.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "common/sys/sys.hpp"
#include "reader-agent/agent.hpp"
#include "reader-agent/agent_config.hpp"
#include "reader-agent/agent_status.hpp"
#include "reader-agent/config_check.hpp"
#include "reader-agent/curl_uplink.hpp"
#include "reader-agent/reader_factory.hpp"

namespace {

using anshin::Status;
namespace agent = anshin::agent;

int Fail(const Status& s) {
  std::fprintf(stderr, "anshin-agent: %s\n", s.message().c_str());
  return 2;
}

int RunStatus(const std::string& config_path) {
  auto file = anshin::sys::Config::Load(config_path);
  if (!file.ok()) return Fail(file.status());
  auto config = agent::LoadAgentConfig(*file, agent::ConfigUse::kStatus);
  if (!config.ok()) return Fail(config.status());
  // Run as root, read as the database's owner: SQLite may create the -wal/-shm files, and
  // root-owned ones would lock the agent's service account out of its own database.
  struct stat st {};
  if (::geteuid() == 0 && ::stat(config->database.c_str(), &st) == 0 && st.st_uid != 0) {
    if (::setgid(st.st_gid) != 0 || ::setuid(st.st_uid) != 0) {
      return Fail(Status::PermissionDenied(std::string("dropping root privileges: ") +
                                           std::strerror(errno)));
    }
  }
  auto store = agent::AgentStore::Open(config->database, agent::AgentStore::Mode::kExisting);
  if (!store.ok()) return Fail(store.status());
  anshin::SystemClock clock;
  auto report = agent::FormatStatus(**store, clock.Now());
  if (!report.ok()) return Fail(report.status());
  std::cout << *report;
  return 0;
}

// --check-config: every problem of the configuration and its files, one a line; exit 1 if any.
int RunCheckConfig(const std::string& config_path) {
  anshin::SystemClock clock;
  agent::ConfigCheck check = agent::CheckAgentConfig(config_path, clock.Now());
  if (!check.problems.empty()) {
    std::fprintf(stderr, "anshin-agent: %s: %zu problem%s:\n", config_path.c_str(),
                 check.problems.size(), check.problems.size() == 1 ? "" : "s");
    for (const std::string& p : check.problems) std::fprintf(stderr, "  %s\n", p.c_str());
    return 1;
  }
  std::printf("anshin-agent: %s: configuration OK\n", config_path.c_str());
  for (const std::string& n : check.notes) std::printf("  %s\n", n.c_str());
  return 0;
}

int RunAgent(const std::string& config_path) {
  // Block the stop signals before any thread starts, so that only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto file = anshin::sys::Config::Load(config_path);
  if (!file.ok()) return Fail(file.status());
  auto config = agent::LoadAgentConfig(*file, agent::ConfigUse::kRun);
  if (!config.ok()) return Fail(config.status());
  auto level = anshin::sys::ParseLogLevel("log.level", config->log_level);
  if (!level.ok()) return Fail(level.status());
  if (Status s = anshin::sys::InitLogging(anshin::sys::LogOptions{
          .program = "anshin-agent", .level = *level, .format = config->log_format});
      !s.ok()) {
    return Fail(s);
  }
  anshin::SystemClock clock;
  auto reader = agent::MakeCardReader(config->device, clock);
  if (!reader.ok()) return Fail(reader.status());
  agent::CurlUplinkOptions uplink;
  uplink.server_url = config->server_url;
  uplink.cert = config->cert;
  uplink.key = config->key;
  uplink.ca = config->ca;
  uplink.timeout = config->timeout;
  uplink.user_agent = "anshin-agent/" + std::string(agent::AgentVersion());
  auto running =
      agent::Agent::Create(std::move(*config), std::move(*reader),
                           std::make_unique<agent::CurlUplink>(uplink), clock, std::cout);
  if (!running.ok()) return Fail(running.status());
  (*running)->Start();
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("signal {}: stopping", sig);
  (*running)->Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "anshin-agent: reads FeliCa taps, keeps them safe on disk, and forwards them to "
      "the anshin server over mutual TLS."};
  app.fallthrough();
  std::string config_path;
  app.add_option("-c,--config", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  bool check_config = false;
  app.add_flag("--check-config", check_config,
               "Check the configuration (every key, the certificate, key and CA, the reader and "
               "server addresses), list every problem, and exit: 0 when all is well");
  auto* run = app.add_subcommand("run", "Run the agent (the default)");
  auto* status = app.add_subcommand(
      "status", "Show queue depth, oldest unsent tap, last upload, allowlist and reader state");
  app.require_subcommand(0, 1);
  CLI11_PARSE(app, argc, argv);
  if (config_path.empty()) {
    std::fprintf(stderr, "anshin-agent: --config is required (see --help)\n");
    return 2;
  }
  try {
    if (check_config) return RunCheckConfig(config_path);
    if (status->parsed()) return RunStatus(config_path);
    (void)run;
    return RunAgent(config_path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anshin-agent: %s\n", e.what());
    return 1;
  }
}

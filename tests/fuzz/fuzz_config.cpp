// fuzz_config: the TOML configuration files as anshin-server and anshin-agent read them at
// start-up: sys::Config (toml++), then every loader over the same table: the server's
// [server]/[tls] (LoadServerConfig) and [mail] (LoadMailConfig) with the unknown-key check, and
// the agent's file for `run` and for `status` (LoadAgentConfigAll).
//
// Invariants: no crash, uncaught exception, leak or undefined behaviour on any text; the
// listener address of a loaded server config reads back from its own "host:port" spelling.
//
// The loaders read the files a config names (mail.password_file, agent.card_key). The target
// runs in a scratch directory holding a valid card key ("card.key") and a password file
// ("smtp-password"), so relative names reach those reads; a config naming a file outside it is
// not loaded (an absolute path could name a FIFO or /dev/stdin, which would block the run, and
// reading another file exercises no other code).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "common/sys/sys.hpp"
#include "notify-server/http/server_config.hpp"
#include "notify-server/mail/mail_config.hpp"
#include "reader-agent/agent_config.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace anshin {
namespace {

namespace fs = std::filesystem;

fs::path& ScratchDir() {
  static fs::path dir;
  return dir;
}

// True when `key` names no file, or one inside the scratch directory.
bool PathIsSafe(const sys::Config& config, std::string_view key) {
  Result<fs::path> path = config.Path(key, {});
  if (!path.ok() || path->empty()) return true;
  const fs::path normal = path->lexically_normal();
  const std::string dir = ScratchDir().string() + "/";
  return normal.string().starts_with(dir) && normal.string().find("/..") == std::string::npos;
}

std::string Spell(const server::ListenAddress& a) {
  const bool v6 = a.host.find(':') != std::string::npos;
  return (v6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
}

void CheckServer(const sys::Config& config) {
  (void)server::RejectUnknownServerKeys(config, server::mail::MailConfigKeys());
  Result<server::ServerConfig> loaded = server::LoadServerConfig(config);
  if (loaded.ok()) {
    for (const server::ListenAddress* a : {&loaded->agents_listen, &loaded->public_listen}) {
      Result<server::ListenAddress> again = server::ParseListenAddress("again", Spell(*a));
      FUZZ_CHECK(again.ok() && *again == *a, Spell(*a));
    }
  }
  if (!PathIsSafe(config, "mail.password_file")) return;
  Result<server::mail::MailConfig> mail = server::mail::LoadMailConfig(config);
  if (mail.ok()) (void)server::mail::SmtpOptionsFor(*mail);
}

void CheckAgent(const sys::Config& config) {
  (void)agent::UnknownAgentKeys(config);
  (void)agent::LoadAgentConfigAll(config, agent::ConfigUse::kStatus);
  if (!PathIsSafe(config, "agent.card_key")) return;
  (void)agent::LoadAgentConfig(config, agent::ConfigUse::kRun);
}

}  // namespace
}  // namespace anshin

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  namespace fs = std::filesystem;
  std::string templ = (fs::temp_directory_path() / "anshin-fuzz-config-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) std::abort();
  anshin::ScratchDir() = templ;
  std::ofstream(fs::path(templ) / "card.key") << std::string(64, 'a') << "\n";
  std::ofstream(fs::path(templ) / "smtp-password") << "secret\n";
  fs::current_path(templ);
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(anshin::ScratchDir(), ec);
  });
  unsetenv("ANSHIN_SMTP_PASSWORD");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  anshin::Result<anshin::sys::Config> config = anshin::sys::Config::Parse(text, "fuzz.toml");
  if (!config.ok()) return 0;
  anshin::CheckServer(*config);
  anshin::CheckAgent(*config);
  return 0;
}

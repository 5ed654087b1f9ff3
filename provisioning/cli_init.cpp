// anshin-admin init: a new deployment home. The mail settings come from flags; on a terminal,
// init asks for each one not given (Enter keeps the placeholder shown in brackets).
#include <unistd.h>

#include <iostream>

#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

// Asks on the terminal for a setting not given as a flag.
void Ask(const char* question, const char* placeholder, std::string& value) {
  if (!value.empty()) return;
  std::cerr << question << " [" << placeholder << "]: " << std::flush;
  std::string line;
  if (std::getline(std::cin, line)) value = line;
}

}  // namespace

void AddInitCommands(Cli& cli) {
  auto& init = cli.Keep<InitOptions>();
  auto* cmd = cli.app().add_subcommand(
      "init", "create the database, CA, server certificate, card key and a complete server.toml");
  cmd->add_option("--server-san", init.server_sans,
                  "server certificate name or address (repeatable)")
      ->required();
  cmd->add_flag("--force", init.force,
                "replace an existing deployment (destroys its database and keys)");
  cmd->add_option("--relay", init.relay,
                  "SMTP relay: smtp://host:port (STARTTLS) or smtps://host:port");
  cmd->add_option("--starttls", init.starttls, "required (default) | none (plain relay)");
  cmd->add_option("--sender-domain", init.sender_domain,
                  "domain of the sending address noreply@DOMAIN (guardians allow it in filters)");
  cmd->add_option("--public-url", init.public_url,
                  "https URL guardians open to verify their address");
  cmd->add_option("--callcenter-phone", init.callcenter_phone,
                  "the call centre's number, shown to guardians");
  cmd->callback([&cli, &init] {
    if (::isatty(STDIN_FILENO) == 1) {
      Ask("SMTP relay", "smtp://127.0.0.1:25", init.relay);
      Ask("STARTTLS (required|none)", "required", init.starttls);
      Ask("sender domain", "kids-anshin.invalid", init.sender_domain);
      Ask("public URL of the verification page", "http://localhost:8080", init.public_url);
      Ask("call-centre phone number", "none", init.callcenter_phone);
    }
    cli.Run(Init(cli.home(), init, OperatorName(), SystemClock().Now()));
    if (!cli.ok()) return;
    cli.out() << "initialised " << cli.home()
              << ": anshin.db, pki/ca.{key,crt}, pki/server.{key,crt}, card.key, server.toml\n";
    std::vector<std::string> placeholders = InitPlaceholders(init);
    if (!placeholders.empty()) {
      cli.out() << "not given, written as placeholders (set them in server.toml before going "
                   "live; anshin-server --check-config lists what is left):\n";
      for (const std::string& p : placeholders) cli.out() << "  " << p << "\n";
    }
  });
}

}  // namespace anshin::admin

// anshin-admin init: a new deployment home.
#include "provisioning/cli.hpp"

namespace anshin::admin {

void AddInitCommands(Cli& cli) {
  auto& init = cli.Keep<InitOptions>();
  auto* cmd = cli.app().add_subcommand(
      "init", "create the database, CA, server certificate, card key and server.toml");
  cmd->add_option("--server-san", init.server_sans,
                  "server certificate name or address (repeatable)")
      ->required();
  cmd->add_flag("--force", init.force,
                "replace an existing deployment (destroys its database and keys)");
  cmd->callback([&cli, &init] {
    cli.Run(Init(cli.home(), init, OperatorName(), SystemClock().Now()));
    if (cli.ok()) {
      cli.out() << "initialised " << cli.home()
                << ": anshin.db, pki/ca.{key,crt}, pki/server.{key,crt}, card.key, server.toml\n";
    }
  });
}

}  // namespace anshin::admin

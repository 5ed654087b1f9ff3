// anshin-admin audit verify.
#include "provisioning/cli.hpp"

namespace anshin::admin {

void AddAuditCommands(Cli& cli) {
  auto* audit = cli.app().add_subcommand("audit", "the audit log");
  audit->require_subcommand(1);
  auto* verify = audit->add_subcommand("verify", "check the audit log's hash chain");
  verify->callback([&cli] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    cli.Run((*admin)->AuditVerify());
    if (cli.ok()) cli.out() << "audit log chain verifies\n";
  });
}

}  // namespace anshin::admin

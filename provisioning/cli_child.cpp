// anshin-admin child add.
#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

struct ChildOptions {
  std::string facility, name, expected;
};

}  // namespace

void AddChildCommands(Cli& cli) {
  auto& o = cli.Keep<ChildOptions>();
  auto* child = cli.app().add_subcommand("child", "children");
  child->require_subcommand(1);

  auto* add = child->add_subcommand("add", "add a child; prints its id");
  add->add_option("--facility", o.facility, "facility code")->required();
  add->add_option("--name", o.name, "display name used in mails")->required();
  add->add_option("--expected-departure", o.expected, "per weekday, e.g. mon=17:30,wed=18:00");
  add->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto id = (*admin)->ChildAdd(o.facility, o.name, o.expected);
    if (!id.ok()) return cli.Run(id.status());
    cli.out() << id->value << "\n";
  });
}

}  // namespace anshin::admin

// anshin-admin child add.
#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

struct ChildOptions {
  ChildInput in;
  std::string number;
  int grade = 0;
};

}  // namespace

void AddChildCommands(Cli& cli) {
  auto& o = cli.Keep<ChildOptions>();
  auto* child = cli.app().add_subcommand("child", "children");
  child->require_subcommand(1);

  auto* add = child->add_subcommand("add", "add a child; prints its id");
  add->add_option("--facility", o.in.facility_code, "facility code")->required();
  add->add_option("--name", o.in.name, "display name used in mails")->required();
  add->add_option("--expected-departure", o.in.expected_departure,
                  "per weekday, e.g. mon=17:30,wed=18:00");
  auto* number = add->add_option("--number", o.number, "the ward's child number (unique)");
  add->add_option("--kana", o.in.kana, "reading of the name (ふりがな)");
  auto* grade = add->add_option("--grade", o.grade, "school grade, 1 to 6");
  add->add_option("--attends", o.in.attends, "days of attendance, e.g. mon,tue,thu");
  add->callback([&cli, &o, number, grade] {
    if (number->count() > 0) o.in.number = o.number;
    if (grade->count() > 0) o.in.grade = o.grade;
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto id = (*admin)->ChildAdd(o.in);
    if (!id.ok()) return cli.Run(id.status());
    cli.out() << id->value << "\n";
  });
}

}  // namespace anshin::admin

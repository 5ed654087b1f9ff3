// anshin-admin card assign|lost.
#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

struct CardOptions {
  std::int64_t child = 0;
  std::string idm, token;
};

}  // namespace

void AddCardCommands(Cli& cli) {
  auto& o = cli.Keep<CardOptions>();
  auto* card = cli.app().add_subcommand("card", "cards");
  card->require_subcommand(1);

  auto* assign =
      card->add_subcommand("assign", "bind a card to a child (retires the child's previous card)");
  assign->add_option("--child", o.child, "child id")->required();
  assign->add_option("--idm", o.idm, "the card's IDm, 16 hex digits (not stored)")->required();
  assign->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto t = (*admin)->CardAssign(ChildId{o.child}, o.idm);
    if (!t.ok()) return cli.Run(t.status());
    cli.out() << t->hex() << "\n";
  });

  auto* lost = card->add_subcommand("lost", "mark a card lost (its taps raise an alert)");
  auto* by_token = lost->add_option("--token", o.token, "card token");
  lost->add_option("--child", o.child, "child id (its active card)")->excludes(by_token);
  lost->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    if (!o.token.empty()) {
      auto t = CardToken::Parse(o.token);
      if (!t.ok()) return cli.Run(Status::InvalidArgument("token: " + t.status().message()));
      cli.Run((*admin)->CardLost(*t));
      if (cli.ok()) cli.out() << "card " << t->hex() << " marked lost\n";
    } else if (o.child != 0) {
      auto t = (*admin)->CardLostOfChild(ChildId{o.child});
      if (!t.ok()) return cli.Run(t.status());
      cli.out() << "card " << t->hex() << " marked lost\n";
    } else {
      cli.Run(Status::InvalidArgument("give --token or --child"));
    }
  });
}

}  // namespace anshin::admin

// anshin-admin card assign|lost|found|replace|retire|list|history.
#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

struct CardOptions {
  std::int64_t child = 0;
  std::string idm, token, status, format;
};

// The card whose token is `text` or starts with it (at least 8 hex digits, as listings show
// them); InvalidArgument when several match.
Result<CardToken> ResolveToken(Admin& admin, const std::string& text) {
  if (auto full = CardToken::Parse(text); full.ok()) return *full;
  if (text.size() < 8 || text.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Status::InvalidArgument(
        "--token: give the card's token or at least its first 8 hex digits (lowercase)");
  }
  ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Card> cards, admin.CardList(std::nullopt));
  std::optional<CardToken> match;
  for (const auto& c : cards) {
    if (c.token.hex().compare(0, text.size(), text) != 0) continue;
    if (match) return Status::InvalidArgument("--token: " + text + " matches several cards");
    match = c.token;
  }
  if (!match) return Status::NotFound("no card " + text + "… is registered");
  return *match;
}

// Adds --token and --child (its active card) to a command acting on one card.
void AddCardChoice(CLI::App* cmd, CardOptions& o) {
  auto* by_token = cmd->add_option("--token", o.token, "card token (or its first 8+ hex digits)");
  cmd->add_option("--child", o.child, "child id (its current card)")->excludes(by_token);
}

// The card --token or --child names (a child's current card: active, else the latest lost).
Result<CardToken> ChosenCard(Admin& admin, const CardOptions& o) {
  if (!o.token.empty()) return ResolveToken(admin, o.token);
  if (o.child == 0) return Status::InvalidArgument("give --token or --child");
  ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Card> cards,
                          store::InRead(admin.store(), [&](store::ReadTxn& txn) {
                            return txn.cards().OfChild(ChildId{o.child});
                          }));
  for (auto it = cards.rbegin(); it != cards.rend(); ++it) {
    if (it->status != CardStatus::kRetired) return it->token;
  }
  return Status::NotFound("child " + std::to_string(o.child) + " has no active or lost card");
}

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
  AddCardChoice(lost, o);
  lost->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    if (o.token.empty() && o.child != 0) {
      auto t = (*admin)->CardLostOfChild(ChildId{o.child});
      if (!t.ok()) return cli.Run(t.status());
      cli.out() << "card " << TokenCell(*t) << " of child " << o.child << " marked lost\n";
      return;
    }
    auto t = ChosenCard(**admin, o);
    if (!t.ok()) return cli.Run(t.status());
    cli.Run((*admin)->CardLost(*t));
    if (cli.ok()) cli.out() << "card " << TokenCell(*t) << " marked lost\n";
  });

  auto* found = card->add_subcommand(
      "found", "a lost card was found: active again (unless a replacement was issued)");
  AddCardChoice(found, o);
  found->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto t = ChosenCard(**admin, o);
    if (!t.ok()) return cli.Run(t.status());
    auto c = (*admin)->CardFound(*t);
    if (!c.ok()) return cli.Run(c.status());
    cli.out() << "card " << TokenCell(c->token) << " of child " << c->child.value
              << " is active again\n";
  });

  auto* replace = card->add_subcommand(
      "replace", "issue the child a new card; the current one (active or lost) is retired");
  replace->add_option("--child", o.child, "child id")->required();
  replace->add_option("--idm", o.idm, "the new card's IDm, 16 hex digits (not stored)")->required();
  replace->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto r = (*admin)->CardReplace(ChildId{o.child}, o.idm);
    if (!r.ok()) return cli.Run(r.status());
    cli.out() << "child " << o.child << ": new card " << TokenCell(r->second) << " active; card "
              << TokenCell(r->first.token) << " retired\n";
  });

  auto* retire = card->add_subcommand("retire", "retire a card (it stops working everywhere)");
  AddCardChoice(retire, o);
  retire->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto t = ChosenCard(**admin, o);
    if (!t.ok()) return cli.Run(t.status());
    auto c = (*admin)->CardRetire(*t);
    if (!c.ok()) return cli.Run(c.status());
    cli.out() << "card " << TokenCell(c->token) << " of child " << c->child.value << " retired\n";
  });

  auto* list = card->add_subcommand("list", "list cards with their child and status");
  list->add_option("--status", o.status, "only cards with this status")
      ->check(CLI::IsMember({"active", "lost", "retired"}));
  Cli::AddFormatOption(list, o.format);
  list->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    std::optional<CardStatus> status;
    if (!o.status.empty()) status = ParseCardStatus(o.status).value();
    auto cards = (*admin)->CardList(status);
    if (!cards.ok()) return cli.Run(cards.status());
    auto zone = DeploymentZone(**admin);
    Listing l{{"child", "token", "status", "issued_at", "retired_at"}, {}};
    for (const auto& c : *cards) {
      l.Add({c.child.value, c.token.hex(), std::string(CardStatusName(c.status)),
             TimeCell(c.issued_at, *zone), TimeCell(c.retired_at, *zone)});
    }
    cli.Print(l, o.format);
  });

  auto* history = card->add_subcommand("history", "a card's status changes, oldest first");
  AddCardChoice(history, o);
  Cli::AddFormatOption(history, o.format);
  history->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto t = ChosenCard(**admin, o);
    if (!t.ok()) return cli.Run(t.status());
    auto changes = (*admin)->CardHistory(*t);
    if (!changes.ok()) return cli.Run(changes.status());
    auto zone = DeploymentZone(**admin);
    Listing l{{"at", "status"}, {}};
    for (const auto& c : *changes)
      l.Add({TimeCell(c.at, *zone), std::string(CardStatusName(c.status))});
    cli.Print(l, o.format);
  });
}

}  // namespace anshin::admin

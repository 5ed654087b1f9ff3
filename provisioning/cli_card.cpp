// anshin-admin card assign [--batch]|lost|found|replace|retire|list|history|shipping (and
// enroll, card_enroll.cpp).
#include "common/sys/sys.hpp"
#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

struct CardOptions {
  std::int64_t child = 0;
  std::string idm, token, status, format;
  std::string batch, facility, out;
  bool dry_run = false, again = false;
};

std::string Plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// card assign --batch FILE: every row's problem on stderr, nothing assigned unless all pair.
Status AssignBatch(Cli& cli, const CardOptions& o) {
  if (o.child != 0 || !o.idm.empty())
    return Status::InvalidArgument("--batch: give the IDms in the file, not --child or --idm");
  ANSHIN_ASSIGN_OR_RETURN(std::string bytes, sys::ReadFile(o.batch));
  ANSHIN_ASSIGN_OR_RETURN(CardBatchFile file, ParseCardBatch(bytes));
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, cli.Open());
  CardBatchOptions options;
  options.facility_code = o.facility;
  options.dry_run = o.dry_run;
  ANSHIN_ASSIGN_OR_RETURN(CardBatchReport report, admin->CardAssignBatch(file, options));
  for (const import::RowError& e : report.errors) cli.err() << e.ToString() << "\n";
  if (!report.errors.empty()) {
    return Status::InvalidArgument(
        "card assign: " + Plural(report.errors.size(), "bad row", "bad rows") +
        "; no card assigned");
  }
  if (o.format == "csv" || o.format == "json") {
    Listing l{{"row", "child", "child_number", "token"}, {}};
    for (const auto& a : report.assigned) {
      l.Add({a.row, a.child.value,
             a.child_number ? nlohmann::json(*a.child_number) : nlohmann::json(), a.token.hex()});
    }
    cli.Print(l, o.format);
    return Status::Ok();
  }
  for (const auto& a : report.assigned) {
    cli.out() << "row " << a.row << ": card " << TokenCell(a.token)
              << (o.dry_run ? " would be assigned" : " assigned") << " to child " << a.child.value
              << (a.child_number ? " (" + *a.child_number + ")" : std::string()) << "\n";
  }
  cli.out() << "card assign: " << Plural(report.assigned.size(), "card", "cards")
            << (o.dry_run ? " would be assigned; nothing written (--dry-run)" : " assigned")
            << "\n";
  return Status::Ok();
}

Status Shipping(Cli& cli, const CardOptions& o) {
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, cli.Open());
  ShippingOptions options;
  options.out_dir = o.out;
  options.facility_code = o.facility;
  if (o.child != 0) options.child = ChildId{o.child};
  options.again = o.again;
  ANSHIN_ASSIGN_OR_RETURN(ShippingReport r, admin->CardShipping(options));
  if (r.letters == 0) {
    cli.out() << "no cards to ship: every active card of the selection is already on a shipping "
                 "list (--again prints them again)\n";
    return Status::Ok();
  }
  cli.out() << Plural(static_cast<std::size_t>(r.letters), "letter", "letters") << " written to "
            << r.pdf.string() << ", shipping list " << r.csv.string();
  if (r.reprinted > 0) cli.out() << " (" << r.reprinted << " reprinted)";
  cli.out() << "\n";
  return Status::Ok();
}

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

  auto* assign = card->add_subcommand(
      "assign",
      "bind a card to a child (retires the child's previous card); --batch FILE pairs the card "
      "maker's file of IDms (column idm, optional column child: child number or id) with "
      "children, without a child column in file order with the children that have no active "
      "card (by child number, then id); all rows are checked and nothing is assigned unless "
      "every row is valid");
  assign->add_option("--child", o.child, "child id");
  assign->add_option("--idm", o.idm, "the card's IDm, 16 hex digits (not stored)");
  assign->add_option("--batch", o.batch, "the card maker's CSV file of IDms");
  assign->add_option("--facility", o.facility, "with --batch: only children of this facility");
  assign->add_flag("--dry-run", o.dry_run, "with --batch: check and say what would be assigned");
  assign->add_option("--format", o.format, "with --batch: text (the default), csv or json")
      ->check(CLI::IsMember({"text", "csv", "json"}));
  assign->callback([&cli, &o] {
    if (!o.batch.empty()) return cli.Run(AssignBatch(cli, o));
    if (o.child == 0 || o.idm.empty())
      return cli.Run(Status::InvalidArgument("give --child and --idm (or --batch FILE)"));
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

  auto* shipping = card->add_subcommand(
      "shipping",
      "write the letters (letters.pdf, one A4 page per child) and the shipping list "
      "(shipping.csv) for every active card not shipped yet, then mark those cards shipped");
  shipping->add_option("--out", o.out, "folder to write letters.pdf and shipping.csv to")
      ->required();
  auto* by_facility = shipping->add_option("--facility", o.facility, "only this facility's cards");
  shipping->add_option("--child", o.child, "only this child's card")->excludes(by_facility);
  shipping->add_flag("--again", o.again,
                     "print cards already shipped too (a lost letter); marks them shipped now");
  shipping->callback([&cli, &o] { cli.Run(Shipping(cli, o)); });

  AddCardEnrollCommand(card, cli);
}

}  // namespace anshin::admin

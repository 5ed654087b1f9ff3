// anshin-admin card enroll --reader CONNSTRING (--child C | --facility F) [--wait S]: the
// card's IDm is read from a reader at the issuing PC through the agent's own libnfc code
// (reader-agent/nfc_card_reader.hpp) and bound to the child like `card assign`; only the token
// is stored, the IDm never leaves this process. With --facility every child of the facility
// without an active card gets one in turn (by child number, then id): the operator puts each
// new card on the reader when asked.
#include <algorithm>
#include <chrono>
#include <thread>

#include "provisioning/cli.hpp"
#include "reader-agent/nfc_card_reader.hpp"
#include "reader-agent/reader_factory.hpp"

namespace anshin::admin {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct CardEnrollOptions {
  std::string reader, facility;
  std::int64_t child = 0;
  int wait_s = 60;
};

// The IDm of the first card in the field that is none of `seen` (the cards of this run: a card
// left on the reader is not taken again for the next child).
Result<Idm> WaitForNewCard(agent::CardReader& reader, const std::vector<Idm>& seen,
                           std::chrono::seconds wait) {
  const auto deadline = SteadyClock::now() + wait;
  while (SteadyClock::now() < deadline) {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<Idm> idm, reader.Poll());
    if (idm && std::find(seen.begin(), seen.end(), *idm) == seen.end()) return *idm;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::Unavailable("no new card was put on the reader within " +
                             std::to_string(wait.count()) + " s");
}

struct Waiting {
  ChildId id;
  std::string label;  // "child 12 (練馬 さくら, N-0001)"
};

std::string Label(const store::Child& c) {
  std::string label = "child " + c.id.ToString() + " (" + c.name;
  if (c.number) label += ", " + *c.number;
  return label + ")";
}

Result<std::vector<Waiting>> ChildrenToEnroll(Admin& admin, const CardEnrollOptions& o) {
  return store::InRead(admin.store(), [&](store::ReadTxn& txn) -> Result<std::vector<Waiting>> {
    std::vector<Waiting> out;
    if (o.child != 0) {
      ANSHIN_ASSIGN_OR_RETURN(store::Child c, txn.children().Get(ChildId{o.child}));
      out.push_back({c.id, Label(c)});
      return out;
    }
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Facility> f,
                            txn.facilities().FindByCode(o.facility));
    if (!f) return Status::NotFound("--facility: no facility " + o.facility);
    ANSHIN_ASSIGN_OR_RETURN(std::vector<ChildId> ids, txn.cards().ChildrenWithoutActiveCard(f->id));
    for (ChildId id : ids) {
      ANSHIN_ASSIGN_OR_RETURN(store::Child c, txn.children().Get(id));
      out.push_back({c.id, Label(c)});
    }
    return out;
  });
}

Status Enroll(Cli& cli, const CardEnrollOptions& o) {
  if ((o.child == 0) == o.facility.empty())
    return Status::InvalidArgument("give --child C or --facility F");
  if (o.wait_s <= 0) return Status::InvalidArgument("--wait: give a number of seconds above 0");
  ANSHIN_RETURN_IF_ERROR(agent::CheckReaderDevice(o.reader));
  if (o.reader.rfind("simulated", 0) == 0)
    return Status::InvalidArgument("--reader: give a libnfc connstring of a real reader");
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, cli.Open());
  ANSHIN_ASSIGN_OR_RETURN(std::vector<Waiting> children, ChildrenToEnroll(*admin, o));
  if (children.empty()) {
    cli.out() << "every child of facility " << o.facility << " has an active card\n";
    return Status::Ok();
  }
  agent::NfcCardReader reader(o.reader);
  ANSHIN_RETURN_IF_ERROR(reader.Open());
  std::vector<Idm> seen;
  std::size_t enrolled = 0;
  for (const Waiting& w : children) {
    for (;;) {
      cli.err() << w.label << ": put the new card on the reader " << reader.Describe() << "\n";
      auto idm = WaitForNewCard(reader, seen, std::chrono::seconds(o.wait_s));
      if (!idm.ok()) {
        reader.Close();
        return idm.status().WithContext(std::to_string(enrolled) + " of " +
                                        std::to_string(children.size()) + " cards enrolled");
      }
      seen.push_back(*idm);
      auto token = admin->CardAssign(w.id, idm->ToHex());
      if (token.ok()) {
        cli.out() << "card " << TokenCell(*token) << " assigned to " << w.label << "\n";
        ++enrolled;
        break;
      }
      // A card of someone else (or a used one): say so and wait for another for this child.
      cli.err() << "this card was not assigned: " << token.status().message() << "\n";
    }
  }
  reader.Close();
  if (children.size() > 1) cli.out() << "card enroll: " << enrolled << " cards enrolled\n";
  return Status::Ok();
}

}  // namespace

void AddCardEnrollCommand(CLI::App* card, Cli& cli) {
  auto& o = cli.Keep<CardEnrollOptions>();
  auto* enroll = card->add_subcommand(
      "enroll",
      "read a new card's IDm from a reader at this PC (the agent's libnfc code) and bind it to "
      "the child (like `card assign`: the child's previous card is retired); with --facility, "
      "every child of the facility without an active card in turn, by child number");
  enroll
      ->add_option("--reader", o.reader,
                   "libnfc connstring of the reader (pn532_uart:/dev/ttyUSB0, pn53x_usb, …; "
                   "\"\" = libnfc's configured device)")
      ->required();
  auto* child = enroll->add_option("--child", o.child, "child id");
  enroll->add_option("--facility", o.facility, "facility code: its children without a card")
      ->excludes(child);
  enroll->add_option("--wait", o.wait_s, "seconds to wait for each card (default 60)");
  enroll->callback([&cli, &o] { cli.Run(Enroll(cli, o)); });
}

}  // namespace anshin::admin

#include "services/cards.hpp"

#include "services/audit_log.hpp"

namespace anshin::services {
namespace {

Status MarkLostIn(store::WriteTxn& txn, const store::Card& card, const store::Actor& who) {
  if (card.status != CardStatus::kActive) {
    return Status::FailedPrecondition("card " + card.token.hex() + " is " +
                                      std::string(CardStatusName(card.status)) + ", not active");
  }
  ANSHIN_RETURN_IF_ERROR(txn.cards().SetStatus(card.token, CardStatus::kLost, who.at));
  // A lost card stays in the allowlist: its taps must reach the server to raise the alert.
  return AppendAudit(txn, who, "card.lost",
                     "child=" + card.child.ToString() + " token=" + card.token.hex());
}

}  // namespace

Status Cards::Assign(ChildId child, const CardToken& token, const store::Actor& who) {
  if (token.empty()) return Status::InvalidArgument("token: must not be empty");
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Status {
    ANSHIN_ASSIGN_OR_RETURN(store::Child c, txn.children().Get(child));
    if (c.status != store::ChildStatus::kEnrolled)
      return Status::FailedPrecondition("child " + child.ToString() + " is withdrawn");
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Card> existing, txn.cards().Find(token));
    if (existing) {
      if (existing->child == child && existing->status == CardStatus::kActive)
        return Status::AlreadyExists("card " + token.hex() + " is already this child's card");
      return Status::AlreadyExists("card already assigned to child " + existing->child.ToString());
    }
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Card> previous, txn.cards().ActiveOf(child));
    if (previous) {
      ANSHIN_RETURN_IF_ERROR(txn.cards().SetStatus(previous->token, CardStatus::kRetired, who.at));
      ANSHIN_RETURN_IF_ERROR(
          txn.cards().RecordAllowlistChange(previous->token, store::AllowlistOp::kRemove, who.at));
    }
    store::Card card;
    card.token = token;
    card.child = child;
    card.status = CardStatus::kActive;
    card.issued_at = who.at;
    ANSHIN_RETURN_IF_ERROR(txn.cards().Insert(card));
    ANSHIN_RETURN_IF_ERROR(
        txn.cards().RecordAllowlistChange(token, store::AllowlistOp::kAdd, who.at));
    return AppendAudit(txn, who, "card.assign",
                       "child=" + child.ToString() + " token=" + token.hex() +
                           (previous ? " retired=" + previous->token.hex() : std::string()));
  });
}

Status Cards::MarkLost(const CardToken& token, const store::Actor& who) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Status {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Card> card, txn.cards().Find(token));
    if (!card) return Status::NotFound("card " + token.hex());
    return MarkLostIn(txn, *card, who);
  });
}

Result<CardToken> Cards::MarkChildCardLost(ChildId child, const store::Actor& who) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<CardToken> {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Card> card, txn.cards().ActiveOf(child));
    if (!card) return Status::NotFound("active card of child " + child.ToString());
    ANSHIN_RETURN_IF_ERROR(MarkLostIn(txn, *card, who));
    return card->token;
  });
}

Result<std::vector<store::Card>> Cards::OfChild(ChildId child) {
  return store::InRead(store_, [&](store::ReadTxn& txn) { return txn.cards().OfChild(child); });
}

}  // namespace anshin::services

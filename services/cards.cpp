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
  // A lost card stays in the allowlist, flagged: its taps must reach the server to raise the
  // alert, and the reader tells the child to see staff.
  ANSHIN_RETURN_IF_ERROR(txn.cards().RecordAllowlistLost(card.token, true, who.at));
  return AppendAudit(txn, who, "card.lost",
                     "child=" + card.child.ToString() + " token=" + card.token.hex());
}

std::string CardOf(const store::Card& card) {
  return "card " + TokenPrefix(card.token) + " of child " + card.child.ToString();
}

Result<store::Card> FindCard(store::ReadTxn& txn, const CardToken& token) {
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Card> card, txn.cards().Find(token));
  if (!card) return Status::NotFound("no card " + TokenPrefix(token) + " is registered");
  return *card;
}

Status RequireEnrolled(store::ReadTxn& txn, ChildId child) {
  ANSHIN_ASSIGN_OR_RETURN(store::Child c, txn.children().Get(child));
  if (c.status != store::ChildStatus::kEnrolled)
    return Status::FailedPrecondition("child " + child.ToString() + " is withdrawn");
  return Status::Ok();
}

Status RequireUnknownToken(store::ReadTxn& txn, const CardToken& token) {
  if (token.empty()) return Status::InvalidArgument("token: must not be empty");
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Card> existing, txn.cards().Find(token));
  if (existing)
    return Status::AlreadyExists("card already assigned to child " + existing->child.ToString());
  return Status::Ok();
}

// active or lost -> retired, out of the allowlist.
Status RetireIn(store::WriteTxn& txn, store::Card& card, const store::Actor& who) {
  ANSHIN_RETURN_IF_ERROR(txn.cards().SetStatus(card.token, CardStatus::kRetired, who.at));
  ANSHIN_RETURN_IF_ERROR(
      txn.cards().RecordAllowlistChange(card.token, store::AllowlistOp::kRemove, who.at));
  card.status = CardStatus::kRetired;
  card.retired_at = who.at;
  return Status::Ok();
}

}  // namespace

Result<int> RetireCardsOfChildIn(store::WriteTxn& txn, ChildId child, const store::Actor& who) {
  ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Card> cards, txn.cards().OfChild(child));
  int retired = 0;
  for (store::Card& card : cards) {
    if (card.status == CardStatus::kRetired) continue;
    ANSHIN_RETURN_IF_ERROR(RetireIn(txn, card, who));
    ANSHIN_RETURN_IF_ERROR(AppendAudit(txn, who, "card.retire",
                                       "child=" + child.ToString() + " token=" + card.token.hex()));
    ++retired;
  }
  return retired;
}

CardStatus CardStatusAt(const std::vector<store::CardStatusChange>& history, TimePoint at,
                        CardStatus current) {
  if (history.empty()) return current;
  CardStatus status = history.front().status;
  for (const store::CardStatusChange& c : history) {
    if (c.at > at) break;
    status = c.status;
  }
  return status;
}

std::string TokenPrefix(const CardToken& token) { return token.hex().substr(0, 8) + "…"; }

Status Cards::Assign(ChildId child, const CardToken& token, const store::Actor& who) {
  return store::InWrite(store_,
                        [&](store::WriteTxn& txn) { return AssignIn(txn, child, token, who); });
}

Status Cards::AssignIn(store::WriteTxn& txn, ChildId child, const CardToken& token,
                       const store::Actor& who) {
  if (token.empty()) return Status::InvalidArgument("token: must not be empty");
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

Result<store::Card> Cards::MarkFound(const CardToken& token, const store::Actor& who) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<store::Card> {
    ANSHIN_ASSIGN_OR_RETURN(store::Card card, FindCard(txn, token));
    if (card.status != CardStatus::kLost) {
      return Status::FailedPrecondition(
          CardOf(card) + " is " + std::string(CardStatusName(card.status)) + ", not lost" +
          (card.status == CardStatus::kRetired ? ": a retired card cannot be re-activated" : ""));
    }
    ANSHIN_RETURN_IF_ERROR(RequireEnrolled(txn, card.child));
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Card> cards, txn.cards().OfChild(card.child));
    for (const store::Card& other : cards) {
      if (other.token == card.token || other.issued_at < card.issued_at) continue;
      return Status::FailedPrecondition(
          CardOf(card) + " cannot be re-activated: a replacement card " + TokenPrefix(other.token) +
          " was issued; retire the found card with `card retire`");
    }
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Card> active, txn.cards().ActiveOf(card.child));
    if (active) {
      return Status::FailedPrecondition(CardOf(card) + " cannot be re-activated: card " +
                                        TokenPrefix(active->token) + " is the child's active card");
    }
    ANSHIN_RETURN_IF_ERROR(txn.cards().SetStatus(card.token, CardStatus::kActive, who.at));
    ANSHIN_RETURN_IF_ERROR(txn.cards().RecordAllowlistLost(card.token, false, who.at));
    ANSHIN_RETURN_IF_ERROR(AppendAudit(
        txn, who, "card.found", "child=" + card.child.ToString() + " token=" + card.token.hex()));
    card.status = CardStatus::kActive;
    return card;
  });
}

Result<store::Card> Cards::Retire(const CardToken& token, const store::Actor& who) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<store::Card> {
    ANSHIN_ASSIGN_OR_RETURN(store::Card card, FindCard(txn, token));
    if (card.status == CardStatus::kRetired)
      return Status::FailedPrecondition(CardOf(card) + " is already retired");
    ANSHIN_RETURN_IF_ERROR(RetireIn(txn, card, who));
    ANSHIN_RETURN_IF_ERROR(AppendAudit(
        txn, who, "card.retire", "child=" + card.child.ToString() + " token=" + card.token.hex()));
    return card;
  });
}

Result<store::Card> Cards::Replace(ChildId child, const CardToken& token, const store::Actor& who) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<store::Card> {
    ANSHIN_RETURN_IF_ERROR(RequireEnrolled(txn, child));
    ANSHIN_RETURN_IF_ERROR(RequireUnknownToken(txn, token));
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Card> cards, txn.cards().OfChild(child));
    // Every card still listed goes: the active one and any lost ones. The one reported back is
    // the active card, else the latest lost one.
    std::optional<store::Card> replaced;
    bool replaced_active = false;
    for (store::Card& c : cards) {  // by issue time
      if (c.status == CardStatus::kRetired) continue;
      const bool active = c.status == CardStatus::kActive;
      ANSHIN_RETURN_IF_ERROR(RetireIn(txn, c, who));
      if (active || !replaced_active) {
        replaced = c;
        replaced_active = active;
      }
    }
    if (!replaced) {
      return Status::FailedPrecondition("child " + child.ToString() +
                                        " has no active or lost card to replace; use `card "
                                        "assign`");
    }
    store::Card card;
    card.token = token;
    card.child = child;
    card.status = CardStatus::kActive;
    card.issued_at = who.at;
    ANSHIN_RETURN_IF_ERROR(txn.cards().Insert(card));
    ANSHIN_RETURN_IF_ERROR(
        txn.cards().RecordAllowlistChange(token, store::AllowlistOp::kAdd, who.at));
    ANSHIN_RETURN_IF_ERROR(AppendAudit(txn, who, "card.replace",
                                       "child=" + child.ToString() + " token=" + token.hex() +
                                           " retired=" + replaced->token.hex()));
    return *replaced;
  });
}

Status Cards::MarkShipped(const std::vector<CardToken>& tokens, const store::Actor& who) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Status {
    for (const CardToken& token : tokens) {
      ANSHIN_ASSIGN_OR_RETURN(store::Card card, FindCard(txn, token));
      if (card.status != CardStatus::kActive) {
        return Status::FailedPrecondition(CardOf(card) + " is " +
                                          std::string(CardStatusName(card.status)) +
                                          " now, not active: run card shipping again");
      }
      ANSHIN_RETURN_IF_ERROR(txn.cards().MarkShipped(token, who.at));
      ANSHIN_RETURN_IF_ERROR(AppendAudit(txn, who, "card.shipped",
                                         "child=" + card.child.ToString() +
                                             " token=" + token.hex().substr(0, 8) +
                                             (card.shipped_at ? " reprint" : "")));
    }
    return Status::Ok();
  });
}

Result<store::Card> Cards::Get(const CardToken& token) {
  return store::InRead(store_, [&](store::ReadTxn& txn) { return FindCard(txn, token); });
}

Result<std::vector<store::Card>> Cards::List(std::optional<CardStatus> status) {
  return store::InRead(store_, [&](store::ReadTxn& txn) { return txn.cards().List(status); });
}

Result<std::vector<store::CardStatusChange>> Cards::History(const CardToken& token) {
  return store::InRead(store_,
                       [&](store::ReadTxn& txn) { return txn.cards().StatusHistory(token); });
}

}  // namespace anshin::services

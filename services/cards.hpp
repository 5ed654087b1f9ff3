// Cards: the card lifecycle (DESIGN.md §3). A card is active, lost or retired; a child has at
// most one active card. The agents' allowlist lists active and lost cards, lost ones flagged as
// such: a lost card's taps must still reach the server to raise the "lost card seen" alert, and
// the reader tells the child to see staff.
//
//   Assign(child, token)   the child's new active card; the previous active one is retired at
//                          once (and leaves the allowlist). A token already known is refused
//                          naming the child it belongs to. The child must be enrolled.
//   MarkLost(token)        active -> lost (stays in the allowlist, flagged lost).
//   MarkFound(token)       lost -> active, unless the child was issued a newer card since.
//   Replace(child, token)  the child's current card (active or lost) is retired and leaves the
//                          allowlist; the new one is the child's active card.
//   Retire(token)          active or lost -> retired (leaves the allowlist).
//   MarkShipped(cards)     the cards' letters went in the post (card shipping): shipped_at is
//                          set on each active card, one `card.shipped` audit entry per card.
//
// Assign runs in its own transaction; AssignIn applies the same rules inside a caller's (a
// batch that commits all or nothing).
//
// Every status change is kept in the card's status history (the store does it), so a tap is
// judged by the status its card had when it was made (CardStatusAt), and audited in the same
// transaction. Thread-safe; blocks on the store.
#pragma once

#include <optional>
#include <vector>

#include "common/status.hpp"
#include "store/store.hpp"

namespace anshin::services {

// The status a card had at `at`: that of its latest change at or before `at`. A time before
// its first change (an agent clock behind the issue) takes the first; `current` when there is
// no history at all.
CardStatus CardStatusAt(const std::vector<store::CardStatusChange>& history, TimePoint at,
                        CardStatus current);

// "3f2a9c1e…": how a token is shown to people and in logs.
std::string TokenPrefix(const CardToken& token);

// Retires every active or lost card of the child in the caller's transaction (each leaves the
// allowlist, as Retire does, and is audited card.retire); returns how many. Withdrawal and the
// purge of withdrawn children use it.
Result<int> RetireCardsOfChildIn(store::WriteTxn& txn, ChildId child, const store::Actor& who);

class Cards {
 public:
  explicit Cards(store::Store& store) : store_(store) {}

  Status Assign(ChildId child, const CardToken& token, const store::Actor& who);
  Status AssignIn(store::WriteTxn& txn, ChildId child, const CardToken& token,
                  const store::Actor& who);
  // In one transaction; FailedPrecondition (nothing marked) when a card is no longer active.
  // A card shipped before is shipped again (its audit entry says `reprint`).
  Status MarkShipped(const std::vector<CardToken>& tokens, const store::Actor& who);
  Status MarkLost(const CardToken& token, const store::Actor& who);
  // The child's active card becomes lost; returns its token.
  Result<CardToken> MarkChildCardLost(ChildId child, const store::Actor& who);
  Result<std::vector<store::Card>> OfChild(ChildId child);

  // Each returns the card as it is after the change.
  Result<store::Card> MarkFound(const CardToken& token, const store::Actor& who);
  Result<store::Card> Retire(const CardToken& token, const store::Actor& who);
  // Returns the card that was retired.
  Result<store::Card> Replace(ChildId child, const CardToken& token, const store::Actor& who);
  Result<store::Card> Get(const CardToken& token);
  Result<std::vector<store::Card>> List(std::optional<CardStatus> status);
  Result<std::vector<store::CardStatusChange>> History(const CardToken& token);

 private:
  store::Store& store_;
};

}  // namespace anshin::services

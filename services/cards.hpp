// Cards: the card lifecycle (DESIGN.md §3). A card is active, lost or retired; a child has at
// most one active card. The agents' allowlist lists active and lost cards: a lost card's taps
// must still reach the server to raise the "lost card seen" alert.
//
//   Assign(child, token)  the child's new active card; the previous active one is retired at
//                         once (and leaves the allowlist). A token already known is refused
//                         naming the child it belongs to. The child must be enrolled.
//   MarkLost(token)       active -> lost (stays in the allowlist).
//
// Every change is audited in the same transaction. Thread-safe; blocks on the store.
#pragma once

#include <vector>

#include "common/status.hpp"
#include "store/store.hpp"

namespace anshin::services {

class Cards {
 public:
  explicit Cards(store::Store& store) : store_(store) {}

  Status Assign(ChildId child, const CardToken& token, const store::Actor& who);
  Status MarkLost(const CardToken& token, const store::Actor& who);
  // The child's active card becomes lost; returns its token.
  Result<CardToken> MarkChildCardLost(ChildId child, const store::Actor& who);
  Result<std::vector<store::Card>> OfChild(ChildId child);

 private:
  store::Store& store_;
};

}  // namespace anshin::services

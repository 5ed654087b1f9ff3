// cards and allowlist_changes (docs/schema.md).
#include "store/sqlite/tables.hpp"

namespace anshin::store::sqlite_impl {
namespace {

#define ANSHIN_CARD_COLS "token, child_id, status, issued_at, retired_at, shipped_at"

Result<Card> ReadCard(const Query& q) {
  Card c;
  ANSHIN_ASSIGN_OR_RETURN(c.token, CardToken::Parse(q.TextView(0)));
  c.child = ChildId{q.Int(1)};
  ANSHIN_ASSIGN_OR_RETURN(c.status, kCardStatusNames.Parse(q.TextView(2)));
  c.issued_at = FromUnixMillis(q.Int(3));
  c.retired_at = OptTime(q, 4);
  c.shipped_at = OptTime(q, 5);
  return c;
}

Result<std::optional<Card>> OneCard(Query& q) {
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<Card>();
  ANSHIN_ASSIGN_OR_RETURN(Card c, ReadCard(q));
  return std::optional<Card>(std::move(c));
}

Result<std::vector<Card>> AllCards(Query& q) {
  std::vector<Card> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    ANSHIN_ASSIGN_OR_RETURN(Card c, ReadCard(q));
    out.push_back(std::move(c));
    return Status::Ok();
  }));
  return out;
}

Status AppendHistory(Db& db, const CardToken& token, CardStatus status, TimePoint at) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db.Prepare("INSERT INTO card_status_history(token, status, at) VALUES (?, ?, ?)"));
  q.Bind(1, token.hex()).Bind(2, kCardStatusNames.Name(status)).Bind(3, ToUnixMillis(at));
  return q.Run().WithContext("card " + token.hex());
}

Result<std::uint64_t> OneCount(Query& q) {
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::Internal("an aggregate returned no row");
  return static_cast<std::uint64_t>(q.Int(0));
}

}  // namespace

Result<std::optional<Card>> SqliteCards::Find(const CardToken& token) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " ANSHIN_CARD_COLS " FROM cards WHERE token = ?"));
  q.Bind(1, token.hex());
  return OneCard(q);
}

Result<std::optional<Card>> SqliteCards::ActiveOf(ChildId child) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " ANSHIN_CARD_COLS
                                      " FROM cards WHERE child_id = ? AND status = 'active'"));
  q.Bind(1, child.value);
  return OneCard(q);
}

Result<std::vector<Card>> SqliteCards::OfChild(ChildId child) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " ANSHIN_CARD_COLS " FROM cards WHERE child_id = ? "
                                      "ORDER BY issued_at, token"));
  q.Bind(1, child.value);
  return AllCards(q);
}

Result<std::uint64_t> SqliteCards::AllowlistVersion() {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT COALESCE(MAX(version), 0) FROM allowlist_changes"));
  return OneCount(q);
}

Result<std::uint64_t> SqliteCards::OldestAllowlistVersion() {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT COALESCE(MIN(version), 0) FROM allowlist_changes"));
  return OneCount(q);
}

Result<std::vector<CardToken>> SqliteCards::AllowlistTokens() {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q,
      db_.Prepare("SELECT token FROM cards WHERE status IN ('active', 'lost') ORDER BY token"));
  std::vector<CardToken> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    ANSHIN_ASSIGN_OR_RETURN(CardToken t, CardToken::Parse(q.TextView(0)));
    out.push_back(std::move(t));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<std::pair<CardToken, AllowlistOp>>> SqliteCards::AllowlistChangesSince(
    std::uint64_t since) {
  // The net effect per token: its latest change, when that is after `since`.
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT a.token, a.op FROM allowlist_changes a WHERE a.version > ? "
                           "AND a.version = (SELECT MAX(b.version) FROM allowlist_changes b "
                           "WHERE b.token = a.token) ORDER BY a.token"));
  q.Bind(1, since);
  std::vector<std::pair<CardToken, AllowlistOp>> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    ANSHIN_ASSIGN_OR_RETURN(CardToken t, CardToken::Parse(q.TextView(0)));
    out.emplace_back(std::move(t),
                     q.TextView(1) == "add" ? AllowlistOp::kAdd : AllowlistOp::kRemove);
    return Status::Ok();
  }));
  return out;
}

Status SqliteCards::Insert(const Card& c) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("INSERT INTO cards(token, child_id, status, issued_at, "
                                      "retired_at) VALUES (?, ?, ?, ?, ?)"));
  q.Bind(1, c.token.hex()).Bind(2, c.child.value).Bind(3, kCardStatusNames.Name(c.status));
  q.Bind(4, ToUnixMillis(c.issued_at));
  BindTime(q, 5, c.retired_at);
  ANSHIN_RETURN_IF_ERROR(q.Run().WithContext("card " + c.token.hex()));
  return AppendHistory(db_, c.token, c.status, c.issued_at);
}

Status SqliteCards::SetStatus(const CardToken& token, CardStatus status, TimePoint at) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("UPDATE cards SET status = ?, retired_at = CASE WHEN ? = 'retired' "
                           "THEN ? ELSE retired_at END WHERE token = ?"));
  const std::string_view name = kCardStatusNames.Name(status);
  q.Bind(1, name).Bind(2, name).Bind(3, ToUnixMillis(at)).Bind(4, token.hex());
  ANSHIN_RETURN_IF_ERROR(q.Run());
  ANSHIN_RETURN_IF_ERROR(NotFoundUnless(db_.Changes() > 0, "card " + token.hex()));
  return AppendHistory(db_, token, status, at);
}

Status SqliteCards::RecordAllowlistChange(const CardToken& token, AllowlistOp op, TimePoint at) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO allowlist_changes(token, op, at) VALUES (?, ?, ?)"));
  q.Bind(1, token.hex()).Bind(2, op == AllowlistOp::kAdd ? "add" : "remove");
  q.Bind(3, ToUnixMillis(at));
  return q.Run();
}

Result<std::vector<CardStatusChange>> SqliteCards::StatusHistory(const CardToken& token) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT status, at FROM card_status_history "
                                               "WHERE token = ? ORDER BY at, id"));
  q.Bind(1, token.hex());
  std::vector<CardStatusChange> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    CardStatusChange c;
    ANSHIN_ASSIGN_OR_RETURN(c.status, kCardStatusNames.Parse(q.TextView(0)));
    c.at = FromUnixMillis(q.Int(1));
    out.push_back(c);
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Card>> SqliteCards::List(std::optional<CardStatus> status) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " ANSHIN_CARD_COLS " FROM cards WHERE ? IS NULL OR "
                                      "status = ? ORDER BY child_id, issued_at, token"));
  if (status) {
    q.Bind(1, kCardStatusNames.Name(*status)).Bind(2, kCardStatusNames.Name(*status));
  } else {
    q.BindNull(1).BindNull(2);
  }
  return AllCards(q);
}

Result<std::vector<CardToken>> SqliteCards::AllowlistLostSince(std::uint64_t since) {
  // since = 0 is the full list, whose tokens come from the cards themselves.
  ANSHIN_ASSIGN_OR_RETURN(
      Query q,
      db_.Prepare(since == 0
                      ? "SELECT token FROM cards WHERE status = 'lost' AND ? = 0 ORDER BY token"
                      : "SELECT a.token FROM allowlist_changes a WHERE a.version > ? "
                        "AND a.op = 'add' AND a.lost = 1 AND a.version = (SELECT MAX(b.version) "
                        "FROM allowlist_changes b WHERE b.token = a.token) ORDER BY a.token"));
  q.Bind(1, since);
  std::vector<CardToken> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    ANSHIN_ASSIGN_OR_RETURN(CardToken t, CardToken::Parse(q.TextView(0)));
    out.push_back(std::move(t));
    return Status::Ok();
  }));
  return out;
}

Status SqliteCards::RecordAllowlistLost(const CardToken& token, bool lost, TimePoint at) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("INSERT INTO allowlist_changes(token, op, at, "
                                               "lost) VALUES (?, 'add', ?, ?)"));
  q.Bind(1, token.hex()).Bind(2, ToUnixMillis(at)).Bind(3, lost ? 1 : 0);
  return q.Run();
}

Result<std::vector<Card>> SqliteCards::ActiveToShip(std::optional<FacilityId> facility,
                                                    std::optional<ChildId> child,
                                                    bool shipped_too) {
  // ?1 facility or NULL, ?2 child or NULL, ?3 shipped too.
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT k.token, k.child_id, k.status, k.issued_at, k.retired_at, "
                           "k.shipped_at FROM cards k JOIN children c ON c.id = k.child_id "
                           "JOIN facilities f ON f.id = c.facility_id "
                           "WHERE k.status = 'active' AND c.status = 'enrolled' "
                           "AND (?1 IS NULL OR c.facility_id = ?1) AND (?2 IS NULL OR c.id = ?2) "
                           "AND (?3 OR k.shipped_at IS NULL) "
                           "ORDER BY f.code, c.child_number IS NULL, c.child_number, c.id"));
  if (facility) {
    q.Bind(1, facility->value);
  } else {
    q.BindNull(1);
  }
  if (child) {
    q.Bind(2, child->value);
  } else {
    q.BindNull(2);
  }
  q.Bind(3, shipped_too);
  return AllCards(q);
}

Result<std::vector<ChildId>> SqliteCards::ChildrenWithoutActiveCard(
    std::optional<FacilityId> facility) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT c.id FROM children c WHERE c.status = 'enrolled' "
                           "AND (?1 IS NULL OR c.facility_id = ?1) AND NOT EXISTS (SELECT 1 FROM "
                           "cards k WHERE k.child_id = c.id AND k.status = 'active') "
                           "ORDER BY c.child_number IS NULL, c.child_number, c.id"));
  if (facility) {
    q.Bind(1, facility->value);
  } else {
    q.BindNull(1);
  }
  std::vector<ChildId> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    out.push_back(ChildId{q.Int(0)});
    return Status::Ok();
  }));
  return out;
}

Status SqliteCards::MarkShipped(const CardToken& token, TimePoint at) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("UPDATE cards SET shipped_at = ? WHERE token = ?"));
  q.Bind(1, ToUnixMillis(at)).Bind(2, token.hex());
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return NotFoundUnless(db_.Changes() > 0, "card " + token.hex());
}

}  // namespace anshin::store::sqlite_impl

#include "services/children.hpp"

#include <array>

#include "common/validate.hpp"
#include "services/audit_log.hpp"
#include "services/cards.hpp"

namespace anshin::services {
namespace {

constexpr std::array<std::string_view, 7> kDayNames = {"sun", "mon", "tue", "wed",
                                                       "thu", "fri", "sat"};

bool IsKanaCodePoint(char32_t c) {
  return (c >= 0x3041 && c <= 0x309F) ||  // hiragana
         (c >= 0x30A0 && c <= 0x30FF) ||  // katakana, with ー and ・
         (c >= 0xFF65 && c <= 0xFF9F) ||  // half-width katakana
         c == 0x20 || c == 0x3000;
}

// AlreadyExists when another child than `self` holds c.number.
Status CheckNumberFree(store::ReadTxn& txn, const store::Child& c, std::optional<ChildId> self) {
  if (!c.number) return Status::Ok();
  ANSHIN_ASSIGN_OR_RETURN(std::optional<ChildId> holder, txn.children().FindByNumber(*c.number));
  if (holder && holder != self) {
    return Status::AlreadyExists("child number already used by child " + holder->ToString());
  }
  return Status::Ok();
}

}  // namespace

Status CheckChildNumber(std::string_view number) {
  if (number.empty() || number.size() > kMaxChildNumberChars) {
    return Status::InvalidArgument("child number: must be 1 to " +
                                   std::to_string(kMaxChildNumberChars) + " characters");
  }
  for (char ch : number) {
    bool ok = (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              ch == '-' || ch == '_';
    if (!ok) {
      return Status::InvalidArgument(
          "child number: only ASCII letters, digits, '-' and '_' are allowed");
    }
  }
  return Status::Ok();
}

Status CheckKana(std::string_view kana) {
  if (kana.empty()) return Status::Ok();
  ANSHIN_RETURN_IF_ERROR(CheckName("kana", kana));
  for (std::size_t i = 0; i < kana.size();) {
    char32_t cp = 0;
    std::size_t n = Utf8CharLength(kana, i, &cp);
    if (n == 0 || !IsKanaCodePoint(cp)) {
      return Status::InvalidArgument("kana: only hiragana, katakana and spaces are allowed");
    }
    i += n;
  }
  return Status::Ok();
}

Status CheckGrade(int grade) {
  if (grade < 1 || grade > 6) return Status::InvalidArgument("grade: must be 1 to 6");
  return Status::Ok();
}

Status CheckChildFields(const store::Child& c) {
  ANSHIN_RETURN_IF_ERROR(CheckName("name", c.name));
  if (c.number) ANSHIN_RETURN_IF_ERROR(CheckChildNumber(*c.number));
  ANSHIN_RETURN_IF_ERROR(CheckKana(c.kana));
  if (c.grade) ANSHIN_RETURN_IF_ERROR(CheckGrade(*c.grade));
  if (c.attend_days.bits > 0x7F) return Status::InvalidArgument("attends: not a set of weekdays");
  return Status::Ok();
}

Result<store::Weekdays> ParseWeekdays(std::string_view text) {
  store::Weekdays days;
  if (text.empty()) return days;
  for (bool more = true; more;) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    more = comma != std::string_view::npos;  // "mon," has an empty last item: refused below
    text = more ? text.substr(comma + 1) : std::string_view();
    int index = -1;
    for (int d = 0; d < 7; ++d) {
      if (kDayNames[d] == item) index = d;
    }
    if (index < 0) {
      return Status::InvalidArgument("attends: unknown day \"" + std::string(item) +
                                     "\" (sun mon tue wed thu fri sat)");
    }
    days.Add(index);
  }
  return days;
}

std::string ChangedChildFields(const store::Child& a, const store::Child& b) {
  std::string out;
  auto note = [&out](bool differs, const char* field) {
    if (!differs) return;
    if (!out.empty()) out += ",";
    out += field;
  };
  note(a.name != b.name, "name");
  note(a.facility != b.facility, "facility");
  note(a.schedule.expected_departure != b.schedule.expected_departure, "expected_departure");
  note(a.number != b.number, "number");
  note(a.kana != b.kana, "kana");
  note(a.grade != b.grade, "grade");
  note(a.attend_days != b.attend_days, "attend_days");
  return out;
}

std::string FormatWeekdays(store::Weekdays days) {
  std::string out;
  for (int i = 1; i <= 7; ++i) {
    int d = i % 7;
    if (!days.Has(d)) continue;
    if (!out.empty()) out += ",";
    out += kDayNames[d];
  }
  return out;
}

Result<ChildId> Children::Add(const store::Child& c, const store::Actor& who) {
  return store::InWrite(
      store_, [&](store::WriteTxn& txn) -> Result<ChildId> { return AddIn(txn, c, who); });
}

Result<ChildId> Children::AddIn(store::WriteTxn& txn, const store::Child& c,
                                const store::Actor& who) {
  ANSHIN_RETURN_IF_ERROR(CheckChildFields(c));
  ANSHIN_RETURN_IF_ERROR(txn.facilities().Get(c.facility).status());
  ANSHIN_RETURN_IF_ERROR(CheckNumberFree(txn, c, std::nullopt));
  store::Child row = c;
  row.status = store::ChildStatus::kEnrolled;
  row.withdrawn_at.reset();
  ANSHIN_ASSIGN_OR_RETURN(ChildId id, txn.children().Insert(row, who.at));
  ANSHIN_RETURN_IF_ERROR(AppendAudit(
      txn, who, "child.add", "child=" + id.ToString() + " facility=" + c.facility.ToString()));
  return id;
}

Status Children::Update(const store::Child& c, const store::Actor& who) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) { return UpdateIn(txn, c, who); });
}

Status Children::UpdateIn(store::WriteTxn& txn, const store::Child& c, const store::Actor& who) {
  ANSHIN_RETURN_IF_ERROR(CheckChildFields(c));
  ANSHIN_ASSIGN_OR_RETURN(store::Child stored, txn.children().Get(c.id));
  ANSHIN_RETURN_IF_ERROR(txn.facilities().Get(c.facility).status());
  ANSHIN_RETURN_IF_ERROR(CheckNumberFree(txn, c, c.id));
  store::Child row = c;
  row.status = stored.status;
  row.withdrawn_at = stored.withdrawn_at;
  ANSHIN_RETURN_IF_ERROR(txn.children().Update(row));
  const std::string changed = ChangedChildFields(stored, row);
  return AppendAudit(
      txn, who, "child.update",
      "child=" + c.id.ToString() + " changed=" + (changed.empty() ? "none" : changed));
}

Result<int> Children::Withdraw(ChildId id, TimePoint at, const store::Actor& who) {
  return store::InWrite(
      store_, [&](store::WriteTxn& txn) -> Result<int> { return WithdrawIn(txn, id, at, who); });
}

Result<int> Children::WithdrawIn(store::WriteTxn& txn, ChildId id, TimePoint at,
                                 const store::Actor& who) {
  ANSHIN_ASSIGN_OR_RETURN(store::Child c, txn.children().Get(id));
  if (c.status == store::ChildStatus::kWithdrawn)
    return Status::FailedPrecondition("child " + id.ToString() + " is already withdrawn");
  c.status = store::ChildStatus::kWithdrawn;
  c.withdrawn_at = at;
  ANSHIN_RETURN_IF_ERROR(txn.children().Update(c));
  ANSHIN_ASSIGN_OR_RETURN(int retired, RetireCardsOfChildIn(txn, id, who));
  ANSHIN_RETURN_IF_ERROR(AppendAudit(txn, who, "child.withdraw",
                                     "child=" + id.ToString() + " at=" + FormatRfc3339(at) +
                                         " cards_retired=" + std::to_string(retired)));
  return retired;
}

Result<store::Child> Children::Get(ChildId id) {
  return store::InRead(store_, [&](store::ReadTxn& txn) { return txn.children().Get(id); });
}

Result<std::int64_t> Children::RecordAbsence(ChildId id, const LocalDate& from, const LocalDate& to,
                                             std::string_view reason, const store::Actor& who) {
  if (to < from) return Status::InvalidArgument("to: before from");
  if (from.AddDays(366) < to) return Status::InvalidArgument("to: more than a year after from");
  if (reason.size() > 500) return Status::InvalidArgument("reason: over 500 bytes");
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<std::int64_t> {
    ANSHIN_ASSIGN_OR_RETURN(store::Child c, txn.children().Get(id));
    if (c.status != store::ChildStatus::kEnrolled)
      return Status::FailedPrecondition("child " + id.ToString() + " is withdrawn");
    store::Absence a;
    a.child = id;
    a.from = from;
    a.to = to;
    a.reason = std::string(reason);
    a.recorded_by = who.user;
    a.recorded_at = who.at;
    ANSHIN_ASSIGN_OR_RETURN(std::int64_t absence, txn.children().InsertAbsence(a));
    ANSHIN_RETURN_IF_ERROR(AppendAudit(txn, who, "child.absence",
                                       "child=" + id.ToString() + " from=" + from.ToString() +
                                           " to=" + to.ToString() +
                                           " absence=" + std::to_string(absence)));
    return absence;
  });
}

Result<std::vector<store::Absence>> Children::Absences(ChildId id, const LocalDate& from,
                                                       const LocalDate& to) {
  return store::InRead(store_,
                       [&](store::ReadTxn& txn) { return txn.children().Absences(id, from, to); });
}

}  // namespace anshin::services

// Children: registering children, changing their records and reading them. Rules:
//   name         a display name (CheckName: it goes into guardians' mail);
//   facility     must exist;
//   number       the ward's child number (児童番号), optional: 1 to 32 ASCII letters, digits,
//                '-' or '_', unique in the deployment (AlreadyExists names the child holding it);
//   kana         the reading of the name, optional: hiragana, katakana (full or half width),
//                the long-vowel mark, middle dot and spaces, at most kMaxNameChars;
//   grade        optional, 1 to 6;
//   attend_days  any set of weekdays (empty: not recorded).
// Every change is audited in the same transaction (IDs and changed field names only). Add and
// Update run in their own transaction; AddIn and UpdateIn apply the same rules inside a
// caller's (an import of many children that commits all or nothing).
// Thread-safe; blocks on the store.
#pragma once

#include <string>
#include <string_view>

#include "common/status.hpp"
#include "store/store.hpp"

namespace anshin::services {

inline constexpr std::size_t kMaxChildNumberChars = 32;

Status CheckChildNumber(std::string_view number);
Status CheckKana(std::string_view kana);
Status CheckGrade(int grade);
// Every field rule above that needs no store (the facility and the number's uniqueness apart).
Status CheckChildFields(const store::Child& c);

// "mon,tue,fri" (sun mon tue wed thu fri sat, any order, "" for none) and back, in week order
// from Monday.
Result<store::Weekdays> ParseWeekdays(std::string_view text);
std::string FormatWeekdays(store::Weekdays days);

// The names of the record fields Update would change, "name,kana" ("" when none).
std::string ChangedChildFields(const store::Child& before, const store::Child& after);

class Children {
 public:
  explicit Children(store::Store& store) : store_(store) {}

  // Registers an enrolled child (c.id, c.status and c.withdrawn_at are ignored).
  Result<ChildId> Add(const store::Child& c, const store::Actor& who);
  // Changes the record of child c.id: name, facility, schedule, number, kana, grade and days
  // (its status and withdrawal are kept as stored).
  Status Update(const store::Child& c, const store::Actor& who);
  Result<ChildId> AddIn(store::WriteTxn& txn, const store::Child& c, const store::Actor& who);
  Status UpdateIn(store::WriteTxn& txn, const store::Child& c, const store::Actor& who);
  Result<store::Child> Get(ChildId id);

  // Withdraws an enrolled child from `at` on: status withdrawn, withdrawn_at, every card
  // retired (so the agents drop it and a later tap is a retired card's: no mail); audited
  // child.withdraw with the number of cards retired. FailedPrecondition when already withdrawn.
  // Returns how many cards were retired.
  Result<int> Withdraw(ChildId id, TimePoint at, const store::Actor& who);
  Result<int> WithdrawIn(store::WriteTxn& txn, ChildId id, TimePoint at, const store::Actor& who);

  // A guardian's call "not coming today" (or for a range, at most 366 days): the child is not
  // expected on those days (no not_arrived alert). The reason is optional; audited with ids
  // and dates only. The child must be enrolled.
  Result<std::int64_t> RecordAbsence(ChildId id, const LocalDate& from, const LocalDate& to,
                                     std::string_view reason, const store::Actor& who);
  Result<std::vector<store::Absence>> Absences(ChildId id, const LocalDate& from,
                                               const LocalDate& to);

 private:
  store::Store& store_;
};

}  // namespace anshin::services

#include "provisioning/import/apply.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "common/validate.hpp"
#include "services/audit_log.hpp"

namespace anshin::admin::import {
namespace {

// The column a service's "field: message" refusal is about, and the message without it.
struct FieldColumn {
  std::string_view field;  // as the services name it
  std::string_view column;
};
constexpr FieldColumn kFieldColumns[] = {
    {"name", "name"}, {"child number", "child_number"}, {"kana", "kana"}, {"grade", "grade"}};

RowError ChildRefusal(int row, const Status& s) {
  const std::string& m = s.message();
  for (const FieldColumn& fc : kFieldColumns) {
    const std::string prefix = std::string(fc.field) + ": ";
    if (m.starts_with(prefix)) return {row, std::string(fc.column), m.substr(prefix.size())};
  }
  // Uniqueness and lifecycle refusals are about the child the number names.
  return {row, "child_number", m};
}

std::string EmailColumn(int slot) { return "guardian" + std::to_string(slot) + "_email"; }

// A refusal is the row's problem; the store failing is the whole import's.
bool IsStoreFailure(const Status& s) {
  return s.code() == Status::Code::kUnavailable || s.code() == Status::Code::kInternal;
}

// The services' cell rules the parser does not apply itself (CheckChildNumber, CheckKana),
// for columns the parser has not already reported on.
void CheckCells(const Application& a, const std::set<std::pair<int, std::string>>& reported,
                std::vector<RowError>& errors) {
  auto check = [&](std::string_view column, std::string_view field, const Status& s) {
    if (s.ok() || reported.contains({a.row, std::string(column)})) return;
    std::string m = s.message();
    const std::string prefix = std::string(field) + ": ";
    if (m.starts_with(prefix)) m.erase(0, prefix.size());
    errors.push_back({a.row, std::string(column), std::move(m)});
  };
  if (!a.child_number.empty()) {
    check("child_number", "child number", services::CheckChildNumber(a.child_number));
  }
  if (a.kana) check("kana", "kana", services::CheckKana(*a.kana));
  if (a.grade && *a.grade) check("grade", "grade", services::CheckGrade(**a.grade));
}

// The row's values over `c` (a stored child, or a fresh one): absent columns keep c's values.
store::Child Merge(store::Child c, const Application& a, FacilityId facility) {
  c.name = a.name;
  c.facility = facility;
  c.number = a.child_number;
  if (a.kana) c.kana = *a.kana;
  if (a.grade) c.grade = *a.grade;
  if (a.attends) c.attend_days.bits = *a.attends;
  for (int d = 0; d < 7; ++d) {
    if (a.departure[d]) c.schedule.expected_departure[d] = *a.departure[d];
  }
  return c;
}

// One row's effect, merged into the report only when the row is kept.
struct RowOutcome {
  ImportCounts counts;
  std::vector<RowError> notes;
};

class Importer {
 public:
  Importer(store::WriteTxn& txn, services::Children& children, services::Guardians& guardians,
           const store::Actor& who)
      : txn_(txn), children_(children), guardians_(guardians), who_(who) {}

  // Applies one row. A refusal comes back as the row's error; a store failure as the Status.
  Result<std::optional<RowError>> Apply(const Application& a, RowOutcome& out) {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<FacilityId> facility, FacilityOf(a.facility));
    if (!facility) {
      return std::optional<RowError>(
          RowError{a.row, "facility", "no facility has this code (see `facility list`)"});
    }
    ANSHIN_ASSIGN_OR_RETURN(std::optional<ChildId> id,
                            txn_.children().FindByNumber(a.child_number));
    if (!id) return AddChild(a, *facility, out);
    return UpdateChild(a, *id, *facility, out);
  }

 private:
  Result<std::optional<FacilityId>> FacilityOf(const std::string& code) {
    if (auto it = facilities_.find(code); it != facilities_.end()) return it->second;
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Facility> f, txn_.facilities().FindByCode(code));
    std::optional<FacilityId> id;
    if (f) id = f->id;
    facilities_.emplace(code, id);
    return id;
  }

  Result<std::optional<RowError>> AddChild(const Application& a, FacilityId facility,
                                           RowOutcome& out) {
    Result<ChildId> id = children_.AddIn(txn_, Merge(store::Child{}, a, facility), who_);
    if (!id.ok()) return Refused(a.row, id.status(), std::nullopt);
    for (const GuardianEntry& g : a.guardians) {
      ANSHIN_ASSIGN_OR_RETURN(std::optional<RowError> e, AddGuardian(a.row, *id, g));
      if (e) return e;
      ++out.counts.guardians_added;
    }
    ++out.counts.children_added;
    return std::optional<RowError>();
  }

  Result<std::optional<RowError>> UpdateChild(const Application& a, ChildId id, FacilityId facility,
                                              RowOutcome& out) {
    ANSHIN_ASSIGN_OR_RETURN(store::Child stored, txn_.children().Get(id));
    const store::Child wanted = Merge(stored, a, facility);
    bool changed = !services::ChangedChildFields(stored, wanted).empty();
    if (changed) {
      if (Status s = children_.UpdateIn(txn_, wanted, who_); !s.ok())
        return Refused(a.row, s, std::nullopt);
    }
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Guardian> registered, txn_.guardians().OfChild(id));
    for (const GuardianEntry& g : a.guardians) {
      auto same = std::find_if(registered.begin(), registered.end(), [&](const store::Guardian& r) {
        return services::SameAddress(r.email, g.email);
      });
      if (same == registered.end()) {
        ANSHIN_ASSIGN_OR_RETURN(std::optional<RowError> e, AddGuardian(a.row, id, g));
        if (e) return e;
        ++out.counts.guardians_added;
        changed = true;
      } else if (same->wants_arrival != g.arrival || same->wants_departure != g.departure) {
        ++out.counts.choices_kept;
        out.notes.push_back({a.row, EmailColumn(g.slot),
                             "guardian " + same->id.ToString() +
                                 " keeps the arrival/departure choices stored (the import does "
                                 "not change a registered guardian)"});
      }
    }
    for (const store::Guardian& r : registered) {
      const bool listed = std::any_of(
          a.guardians.begin(), a.guardians.end(),
          [&](const GuardianEntry& g) { return services::SameAddress(r.email, g.email); });
      if (listed) continue;
      ++out.counts.guardians_kept;
      out.notes.push_back({a.row, "",
                           "guardian " + r.id.ToString() + " of child " + id.ToString() +
                               " is not in the file and was kept (the import removes no one)"});
    }
    ++(changed ? out.counts.children_updated : out.counts.children_unchanged);
    return std::optional<RowError>();
  }

  Result<std::optional<RowError>> AddGuardian(int row, ChildId child, const GuardianEntry& e) {
    store::Guardian g;
    g.child = child;
    g.email = e.email;
    g.wants_arrival = e.arrival;
    g.wants_departure = e.departure;
    Result<services::VerificationTicket> t = guardians_.AddIn(txn_, g, who_);
    if (!t.ok()) return Refused(row, t.status(), EmailColumn(e.slot));
    return std::optional<RowError>();
  }

  // The row's error for a service's refusal, or the status itself when the store failed.
  static Result<std::optional<RowError>> Refused(int row, const Status& s,
                                                 std::optional<std::string> column) {
    if (IsStoreFailure(s)) return s;
    if (!column) return std::optional<RowError>(ChildRefusal(row, s));
    std::string m = s.message();
    if (m.starts_with("mail address: ")) m.erase(0, std::string_view("mail address: ").size());
    return std::optional<RowError>(RowError{row, std::move(*column), std::move(m)});
  }

  store::WriteTxn& txn_;
  services::Children& children_;
  services::Guardians& guardians_;
  const store::Actor& who_;
  std::map<std::string, std::optional<FacilityId>> facilities_;
};

void Add(ImportCounts& into, const ImportCounts& c) {
  into.children_added += c.children_added;
  into.children_updated += c.children_updated;
  into.children_unchanged += c.children_unchanged;
  into.guardians_added += c.guardians_added;
  into.guardians_kept += c.guardians_kept;
  into.choices_kept += c.choices_kept;
}

std::string AuditDetail(const ParsedApplications& parsed, const ImportCounts& c) {
  return "rows=" + std::to_string(parsed.rows.size()) +
         " children_added=" + std::to_string(c.children_added) +
         " children_updated=" + std::to_string(c.children_updated) +
         " guardians_added=" + std::to_string(c.guardians_added);
}

std::string Count(int n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

}  // namespace

Result<ImportReport> ImportApplications(store::Store& store, services::Children& children,
                                        services::Guardians& guardians,
                                        const ParsedApplications& parsed, const store::Actor& who,
                                        const ImportOptions& options) {
  ImportReport report;
  report.errors = parsed.errors;
  std::set<std::pair<int, std::string>> reported;
  for (const RowError& e : parsed.errors) reported.emplace(e.row, e.column);
  for (const Application& a : parsed.rows) CheckCells(a, reported, report.errors);
  std::set<int> bad_rows;
  for (const RowError& e : report.errors) bad_rows.insert(e.row);

  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store.BeginWrite());
  Importer importer(*txn, children, guardians, who);
  const int total = static_cast<int>(parsed.rows.size());
  for (int i = 0; i < total; ++i) {
    const Application& a = parsed.rows[i];
    if (!bad_rows.contains(a.row)) {
      ANSHIN_RETURN_IF_ERROR(txn->Savepoint());
      RowOutcome out;
      ANSHIN_ASSIGN_OR_RETURN(std::optional<RowError> refused, importer.Apply(a, out));
      if (refused) {
        ANSHIN_RETURN_IF_ERROR(txn->RollbackSavepoint());
        report.errors.push_back(std::move(*refused));
      } else {
        ANSHIN_RETURN_IF_ERROR(txn->ReleaseSavepoint());
        Add(report.counts, out.counts);
        for (RowError& n : out.notes) report.notes.push_back(std::move(n));
      }
    }
    if (options.progress) options.progress(i + 1, total);
  }
  std::stable_sort(report.errors.begin(), report.errors.end(),
                   [](const RowError& x, const RowError& y) { return x.row < y.row; });
  // Returning without Commit() rolls back: on any error, in a dry run, and when nothing
  // changed (an unchanged re-import leaves no trace, not even its own audit entry).
  const ImportCounts& c = report.counts;
  if (!report.errors.empty() || options.dry_run) return report;
  if (c.children_added == 0 && c.children_updated == 0) return report;
  ANSHIN_RETURN_IF_ERROR(
      services::AppendAudit(*txn, who, "import.applications", AuditDetail(parsed, report.counts)));
  ANSHIN_RETURN_IF_ERROR(txn->Commit());
  report.written = true;
  return report;
}

std::string DescribeImport(const ImportReport& r, bool dry_run) {
  const ImportCounts& c = r.counts;
  if (!r.errors.empty()) {
    std::set<int> rows;
    for (const RowError& e : r.errors) rows.insert(e.row);
    return "import: nothing imported: " +
           Count(static_cast<int>(r.errors.size()), "problem", "problems") + " in " +
           Count(static_cast<int>(rows.size()), "row", "rows") +
           "; correct the file and import it again";
  }
  std::string s;
  if (dry_run) {
    s = "import (dry run, nothing written): would add " +
        Count(c.children_added, "child", "children") + ", update " +
        std::to_string(c.children_updated) + ", leave " + std::to_string(c.children_unchanged) +
        " unchanged; would add " + Count(c.guardians_added, "guardian", "guardians");
    if (c.guardians_added > 0) s += " (verification mails would be queued)";
  } else {
    s = "import: " + Count(c.children_added, "child", "children") + " added, " +
        std::to_string(c.children_updated) + " updated, " + std::to_string(c.children_unchanged) +
        " unchanged; " + Count(c.guardians_added, "guardian", "guardians") + " added";
    if (c.guardians_added > 0) s += " (verification mails queued)";
  }
  if (c.guardians_kept > 0) {
    s += "; " + Count(c.guardians_kept, "registered guardian", "registered guardians") +
         " not in the file kept";
  }
  if (c.choices_kept > 0) {
    s += "; " + Count(c.choices_kept, "guardian's", "guardians'") +
         " mail choices differ from the file, kept as stored";
  }
  return s;
}

}  // namespace anshin::admin::import

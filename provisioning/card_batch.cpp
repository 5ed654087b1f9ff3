// card assign --batch: the card maker's delivery file paired with children (card_files.hpp).
#include <map>
#include <set>

#include "provisioning/admin.hpp"
#include "provisioning/import/csv_text.hpp"

namespace anshin::admin {
namespace {

using import::RowError;

std::string Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool IsBlank(const import::CsvRecord& r) {
  for (const auto& f : r.fields) {
    if (!Trimmed(f).empty()) return false;
  }
  return true;
}

std::string Cell(const import::CsvRecord& r, int column) {
  return column >= 0 && column < static_cast<int>(r.fields.size()) ? Trimmed(r.fields[column])
                                                                   : std::string();
}

bool AllDigits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

Result<CardBatchFile> ParseCardBatch(std::string_view bytes) {
  ANSHIN_ASSIGN_OR_RETURN(import::DecodedText text,
                          import::DecodeText(bytes, import::Encoding::kAuto));
  ANSHIN_ASSIGN_OR_RETURN(std::vector<import::CsvRecord> records, import::SplitCsv(text.utf8));
  CardBatchFile out;
  auto header = records.begin();
  while (header != records.end() && IsBlank(*header)) ++header;
  if (header == records.end()) {
    out.errors.push_back({1, "idm", "the file has no header row"});
    return out;
  }
  int idm_col = -1, child_col = -1;
  for (std::size_t i = 0; i < header->fields.size(); ++i) {
    const std::string name = Lower(Trimmed(header->fields[i]));
    int* col = name == "idm"                                                       ? &idm_col
               : (name == "child" || name == "child_number" || name == "児童番号") ? &child_col
                                                                                   : nullptr;
    if (col == nullptr) continue;  // the card maker's other columns
    if (*col >= 0) {
      out.errors.push_back({header->row, name == "idm" ? "idm" : "child",
                            "named twice (columns " + std::to_string(*col + 1) + " and " +
                                std::to_string(i + 1) + ")"});
    }
    *col = static_cast<int>(i);
  }
  if (idm_col < 0) out.errors.push_back({header->row, "idm", "missing from the header row"});
  if (!out.errors.empty()) return out;
  out.has_child_column = child_col >= 0;

  std::map<Idm, int> seen;  // IDm -> first row
  for (auto r = header + 1; r != records.end(); ++r) {
    if (IsBlank(*r)) continue;
    CardBatchRow row;
    row.row = r->row;
    bool ok = true;
    auto idm = Idm::Parse(Cell(*r, idm_col));
    if (!idm.ok()) {
      out.errors.push_back({r->row, "idm", "not an IDm (16 hex digits)"});
      ok = false;
    } else if (auto [it, inserted] = seen.emplace(*idm, r->row); !inserted) {
      out.errors.push_back(
          {r->row, "idm",
           "the same IDm as row " + std::to_string(it->second) + " (twice in the file)"});
      ok = false;
    } else {
      row.idm = *idm;
    }
    if (out.has_child_column) {
      row.child = Cell(*r, child_col);
      if (row.child.empty()) {
        out.errors.push_back({r->row, "child", "empty: give the child number or id"});
        ok = false;
      }
    }
    if (ok) out.rows.push_back(std::move(row));
  }
  if (out.rows.empty() && out.errors.empty())
    out.errors.push_back({header->row, "idm", "the file has no IDm rows"});
  return out;
}

Result<CardBatchReport> Admin::CardAssignBatch(const CardBatchFile& file,
                                               const CardBatchOptions& o) {
  CardBatchReport report;
  report.errors = file.errors;
  std::optional<FacilityId> facility;
  if (!o.facility_code.empty()) {
    ANSHIN_ASSIGN_OR_RETURN(store::Facility f, facilities_.ByCode(o.facility_code));
    facility = f.id;
  }
  ANSHIN_ASSIGN_OR_RETURN(CardKey key, HomeCardKey());
  const store::Actor who = Who();
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store_->BeginWrite());

  // Pairs each row with its child; a row that cannot be paired is reported and skipped.
  std::vector<std::pair<const CardBatchRow*, store::Child>> pairs;
  if (file.has_child_column) {
    std::map<ChildId, int> named;  // child -> first row naming it
    for (const CardBatchRow& row : file.rows) {
      ANSHIN_ASSIGN_OR_RETURN(std::optional<ChildId> id, txn->children().FindByNumber(row.child));
      if (!id && AllDigits(row.child) && row.child.size() < 18) {
        const ChildId by_id{std::stoll(row.child)};
        if (txn->children().Get(by_id).ok()) id = by_id;
      }
      if (!id) {
        report.errors.push_back(
            {row.row, "child", "unknown child (no child has this number or id)"});
        continue;
      }
      ANSHIN_ASSIGN_OR_RETURN(store::Child c, txn->children().Get(*id));
      if (facility && c.facility != *facility) {
        report.errors.push_back(
            {row.row, "child",
             "child " + id->ToString() + " is not at facility " + o.facility_code});
        continue;
      }
      if (auto [it, inserted] = named.emplace(*id, row.row); !inserted) {
        report.errors.push_back({row.row, "child",
                                 "child " + id->ToString() + " is named twice (rows " +
                                     std::to_string(it->second) + " and " +
                                     std::to_string(row.row) + ")"});
        continue;
      }
      ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Card> active, txn->cards().ActiveOf(*id));
      if (active) {
        report.errors.push_back({row.row, "child",
                                 "child " + id->ToString() + " already has an active card (" +
                                     services::TokenPrefix(active->token) +
                                     "); use `card replace` to change it"});
        continue;
      }
      pairs.emplace_back(&row, std::move(c));
    }
  } else {
    ANSHIN_ASSIGN_OR_RETURN(std::vector<ChildId> waiting,
                            txn->cards().ChildrenWithoutActiveCard(facility));
    std::size_t next = 0;
    for (const CardBatchRow& row : file.rows) {
      if (next == waiting.size()) {
        report.errors.push_back(
            {row.row, "idm",
             "more IDms than children without a card (" + std::to_string(waiting.size()) +
                 (facility ? " at facility " + o.facility_code : std::string()) + ")"});
        continue;
      }
      ANSHIN_ASSIGN_OR_RETURN(store::Child c, txn->children().Get(waiting[next++]));
      pairs.emplace_back(&row, std::move(c));
    }
  }

  for (const auto& [row, child] : pairs) {
    const CardToken token = key.TokenOf(row->idm);
    ANSHIN_RETURN_IF_ERROR(txn->Savepoint());
    Status s = cards_.AssignIn(*txn, child.id, token, who);
    if (!s.ok()) {
      ANSHIN_RETURN_IF_ERROR(txn->RollbackSavepoint());
      // The services' own words ("card already assigned to child 12"); a store failure that
      // is not about this row ends the batch.
      if (s.code() == Status::Code::kUnavailable || s.code() == Status::Code::kInternal) return s;
      report.errors.push_back(
          {row->row, s.code() == Status::Code::kAlreadyExists ? "idm" : "child", s.message()});
      continue;
    }
    ANSHIN_RETURN_IF_ERROR(txn->ReleaseSavepoint());
    report.assigned.push_back({row->row, child.id, child.number, token});
  }
  std::stable_sort(report.errors.begin(), report.errors.end(),
                   [](const RowError& x, const RowError& y) { return x.row < y.row; });
  // Returning without Commit() rolls back: on any error and in a dry run.
  if (!report.errors.empty() || o.dry_run) return report;
  ANSHIN_RETURN_IF_ERROR(txn->Commit());
  report.written = true;
  return report;
}

}  // namespace anshin::admin

// fuzz_csv_import: the families' application file as anshin-admin reads it
// (provisioning/import/applications.hpp ParseApplications): decoding (UTF-8, BOM, CP932 through
// iconv), CSV splitting (libcsv, strict quoting) and the row checks. Each input is read in all
// three encodings the command line offers (auto, utf-8, shift_jis).
//
// Invariants: no crash, leak or undefined behaviour; every text that comes out (cells, errors)
// is valid UTF-8; row numbers are those of the file (after the header, ascending); and a row with
// no error is importable as it is: its child number, name, kana and addresses pass the same rules
// the registry applies (the child number's form is checked by the import), it has a facility and at
// least one guardian, each slot once.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "common/validate.hpp"
#include "provisioning/import/applications.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace anshin::admin::import {
namespace {

void CheckRow(const Application& a) {
  // Its form (length, characters) is services::CheckChildNumber's, applied by the import.
  FUZZ_CHECK(!a.child_number.empty(), "row " + std::to_string(a.row) + ": no child number");
  FUZZ_CHECK(CheckName("name", a.name).ok(), "row " + std::to_string(a.row) + ": name");
  if (a.kana && !a.kana->empty()) FUZZ_CHECK(CheckName("kana", *a.kana).ok(), "kana");
  FUZZ_CHECK(!a.facility.empty(), "row " + std::to_string(a.row) + ": no facility");
  FUZZ_CHECK(!a.guardians.empty(), "row " + std::to_string(a.row) + ": no guardian");
  std::set<int> slots;
  for (const GuardianEntry& g : a.guardians) {
    FUZZ_CHECK(CheckEmailAddress(g.email).ok(), "row " + std::to_string(a.row) + ": address");
    FUZZ_CHECK(g.slot >= 1 && g.slot <= kMaxGuardianColumns && slots.insert(g.slot).second,
               "guardian slot " + std::to_string(g.slot));
  }
  if (a.grade && *a.grade) FUZZ_CHECK(**a.grade >= 1 && **a.grade <= 6, "grade");
  for (const auto& d : a.departure) {
    if (d && *d) FUZZ_CHECK((*d)->seconds >= 0 && (*d)->seconds < 86400, "departure time");
  }
}

void Check(std::string_view bytes, Encoding encoding) {
  Result<ParsedApplications> parsed = ParseApplications(bytes, encoding);
  if (!parsed.ok()) {
    FUZZ_CHECK(IsValidUtf8(parsed.status().message()), parsed.status().message());
    return;
  }
  FUZZ_CHECK(parsed->encoding != Encoding::kAuto, "the encoding read is never auto");
  std::set<int> rows_with_errors;
  int previous = 0;
  for (const RowError& e : parsed->errors) {
    FUZZ_CHECK(e.row >= 1 && e.row >= previous, "error rows out of order");
    previous = e.row;
    FUZZ_CHECK(IsValidUtf8(e.ToString()), e.ToString());
    rows_with_errors.insert(e.row);
  }
  previous = 1;  // the header is row 1 or later
  for (const Application& a : parsed->rows) {
    FUZZ_CHECK(a.row > previous,
               "row " + std::to_string(a.row) + " after " + std::to_string(previous));
    previous = a.row;
    FUZZ_CHECK(IsValidUtf8(a.child_number) && IsValidUtf8(a.name) && IsValidUtf8(a.facility),
               "row " + std::to_string(a.row) + " is not UTF-8");
    if (rows_with_errors.count(a.row) == 0) CheckRow(a);
  }
}

}  // namespace
}  // namespace anshin::admin::import

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using anshin::admin::import::Encoding;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (Encoding e : {Encoding::kAuto, Encoding::kUtf8, Encoding::kCp932}) {
    anshin::admin::import::Check(bytes, e);
  }
  return 0;
}

// Importing a parsed application file (applications.hpp) into the store, all or nothing.
//
// A row is matched to a registered child by its child number (idempotent: importing the same
// file again changes nothing):
//   - no child has the number: the child is added (Children::AddIn) with each guardian of the
//     row (Guardians::AddIn: unverified, verification mail queued in the outbox);
//   - a child has it: the columns present in the file replace the stored fields (absent
//     columns keep them) and, if any differs, the child is updated (Children::UpdateIn); each
//     address of the row the child does not have yet is added as above. Registered guardians
//     the row does not list are kept (removal is another command), and so are the arrival and
//     departure choices of addresses already registered; both are reported as notes.
//
// Checking uses the services' own rules, never a copy of them: first every row's cells with
// the Check* functions (besides the parser's checks), then every row is applied inside one
// write transaction, each in a savepoint, so the services refuse what they refuse for the
// single commands (facility missing, child number used, more than 4 guardians, an address
// twice, a withdrawn child). A refused row's savepoint is rolled back and the next row tried,
// so every bad row is reported; the transaction commits only when no row was refused and it
// is not a dry run. Every change is audited by the services (IDs only), and the import itself
// once, with its counts; an import that changes nothing writes nothing at all.
//
// Not thread-safe per call (one import at a time holds the store's writer throughout).
#pragma once

#include <functional>
#include <vector>

#include "common/status.hpp"
#include "provisioning/import/applications.hpp"
#include "services/children.hpp"
#include "services/guardians.hpp"
#include "store/store.hpp"

namespace anshin::admin::import {

struct ImportCounts {
  int children_added = 0;
  int children_updated = 0;  // a field changed or a guardian was added
  int children_unchanged = 0;
  int guardians_added = 0;  // each with its verification mail queued
  int guardians_kept = 0;   // registered, not in the child's row: left as they are
  int choices_kept = 0;     // registered addresses whose choices in the file differ
};

struct ImportReport {
  ImportCounts counts;
  std::vector<RowError> errors;  // every bad row's problems, by row; if any, nothing written
  std::vector<RowError> notes;   // what was left as stored, by row (IDs only)
  bool written = false;          // committed: no errors, not a dry run, something changed
};

struct ImportOptions {
  bool dry_run = false;
  // Called after each row is applied with (rows done, rows in the file).
  std::function<void(int done, int total)> progress;
};

// Result failure: the store failed (nothing written); a row's problems are in the report.
Result<ImportReport> ImportApplications(store::Store& store, services::Children& children,
                                        services::Guardians& guardians,
                                        const ParsedApplications& parsed, const store::Actor& who,
                                        const ImportOptions& options);

// "import: 120 children added, 3 updated, 877 unchanged; 240 guardians added (verification
// mails queued)", and what was kept; a dry run says what would be done and that nothing was.
std::string DescribeImport(const ImportReport& report, bool dry_run);

}  // namespace anshin::admin::import

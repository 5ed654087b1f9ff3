// The files of the card round: the card maker's delivery file read by `card assign --batch`,
// and what `card shipping` writes for the post (docs/operations.md, "Cards in the post").
//
// The delivery file is CSV (UTF-8 with or without BOM, or Shift_JIS; import/csv_text.hpp) with
// a header row naming a column `idm` (16 hex digits, any case) and optionally `child` (the
// ward's child number, or the child's id when no child has that number); other columns are
// ignored (card makers add serial numbers and dates). Blank rows are skipped. Rows are
// numbered as a spreadsheet shows them (the header is row 1); errors name the row and column,
// never quote a cell.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "common/types.hpp"
#include "provisioning/import/applications.hpp"

namespace anshin::admin {

struct CardBatchRow {
  int row = 0;
  Idm idm;
  std::string child;  // the cell as written (trimmed); empty when the file has no child column
};

struct CardBatchFile {
  bool has_child_column = false;
  std::vector<CardBatchRow> rows;        // the rows without errors, in file order
  std::vector<import::RowError> errors;  // malformed IDm, IDm twice, empty child cell
};

// Decodes and checks the delivery file without the store. A Status failure is a file-level
// problem (encoding, quoting); the header's and rows' problems are in `errors`.
Result<CardBatchFile> ParseCardBatch(std::string_view bytes);

struct CardBatchOptions {
  std::string facility_code;  // pair only with children of this facility; empty: all
  bool dry_run = false;
};

struct CardBatchAssignment {
  int row = 0;
  ChildId child;
  std::optional<std::string> child_number;
  CardToken token;
};

struct CardBatchReport {
  std::vector<CardBatchAssignment> assigned;  // what was (or, on a dry run, would be) assigned
  std::vector<import::RowError> errors;       // if any, nothing was assigned
  bool written = false;
};

// card shipping: the active cards of the selection whose letters have not gone out yet (all
// of them with `again`).
struct ShippingOptions {
  std::filesystem::path out_dir;
  std::string facility_code;     // empty: every facility
  std::optional<ChildId> child;  // only this child's card
  bool again = false;            // reprint cards already shipped too
};

struct ShippingReport {
  int letters = 0;    // 0: nothing to ship, no file written
  int reprinted = 0;  // of them, cards that had been shipped before
  std::filesystem::path pdf, csv;
};

}  // namespace anshin::admin

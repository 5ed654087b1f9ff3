// The families' application file (申込書の一覧): one row per child, parsed and checked without
// touching the store. apply.hpp then checks it with the services' rules and imports it.
//
// Columns (the header row names them, in any order; English or Japanese; optional ones may be
// omitted; names are matched ignoring case, surrounding spaces and full-width digits):
//
//   child_number         児童番号                 required; its form is CheckChildNumber's
//   name                 氏名 / 児童氏名           required; the name used in mails
//   kana                 ふりがな / フリガナ        optional
//   facility             施設コード                required; an existing facility's code
//   grade                学年                     optional; 1-6 ("1" or "1年")
//   guardianN_email      保護者Nメール(アドレス)    N = 1..4; optional, but a child needs one
//   guardianN_arrival    保護者N来館               choice, default yes
//   guardianN_departure  保護者N退館               choice, default yes
//   departure_mon..sun   月曜退館 .. 日曜退館       optional expected departure, HH:MM or H:MM
//   attends              通所曜日 / 利用曜日        optional; the weekdays the child comes:
//                                                 月・水・金, 月水金, 月曜,水曜 or mon,wed,fri
//
// A choice is 1/0, ○/× (also 〇 ◯ ✕), はい/いいえ; empty means yes. Full-width digits and
// colons are accepted in numbers and times. A column absent from the header leaves the stored
// value alone when a child is updated; an empty cell in a present column clears it. Blank rows
// are skipped.
//
// The rules that need the services or the store (the child number's form, kana, the facility,
// uniqueness, the guardian limit) are apply.hpp's, with the services' own functions.
//
// Errors are collected, not stopped at: each one names its row (as a spreadsheet numbers it,
// the header being row 1) and its column by the English name. They never quote a cell's
// value (it may be personal data).
//
// Pure functions (no I/O), thread-safe; ParseApplications is the fuzz target's entry point.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/engine.hpp"
#include "common/status.hpp"
#include "provisioning/import/csv_text.hpp"

namespace anshin::admin::import {

inline constexpr int kMaxGuardianColumns = 4;

struct GuardianEntry {
  int slot = 0;  // 1..4, the N of guardianN_*
  std::string email;
  bool arrival = true;
  bool departure = true;
};

struct Application {
  int row = 0;
  std::string child_number;
  std::string name;
  std::string facility;                     // the facility's code
  std::optional<std::string> kana;          // nullopt: column absent
  std::optional<std::optional<int>> grade;  // nullopt: column absent; inner nullopt: empty
  // Per weekday (0 = Sunday): nullopt when the column is absent; else the cell's time or none.
  std::array<std::optional<std::optional<LocalTime>>, 7> departure{};
  // The weekdays attended, bit d = weekday d (0 = Sunday); nullopt: column absent; 0: none.
  std::optional<std::uint8_t> attends;
  std::vector<GuardianEntry> guardians;  // in slot order, only filled-in slots
};

struct RowError {
  int row = 0;
  std::string column;  // empty: the whole row
  std::string message;
  std::string ToString() const;  // "row 17, column guardian2_email: ..."
};

struct ParsedApplications {
  Encoding encoding = Encoding::kUtf8;
  std::vector<Application> rows;
  std::vector<RowError> errors;  // by row
};

// Decodes, splits and checks the file. A Status failure is a file-level problem (encoding,
// quoting); row-level problems are in `errors`.
Result<ParsedApplications> ParseApplications(std::string_view bytes, Encoding encoding);

// An attends cell (see above) as weekday bits; nullopt when it is not a list of weekdays.
std::optional<std::uint8_t> ParseAttendsCell(std::string_view cell);

// A header row and one example row, UTF-8 with a BOM (so Excel opens it correctly), with the
// English or the Japanese column names.
std::string ApplicationTemplate(bool japanese_headers);

}  // namespace anshin::admin::import

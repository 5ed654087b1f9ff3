// Reading a spreadsheet's CSV file: the bytes as Excel or LibreOffice saved them, decoded to
// UTF-8 (iconv) and split into records (libcsv, strict RFC 4180 quoting).
//
// Encodings: UTF-8 with or without a byte-order mark, and Shift_JIS as Excel saves it on a
// Japanese Windows (CP932, which adds NEC and IBM extensions such as ①, ㈱ and 髙). kAuto
// takes a BOM as UTF-8, otherwise well-formed UTF-8 as UTF-8, otherwise CP932. UTF-16 files
// (Excel's "Unicode text") are refused with a message saying how to save the file.
//
// Rows are numbered as a spreadsheet shows them: the first record of the file is row 1 and a
// blank line is a row too (it is reported as a record with no fields). Line ends may be LF or
// CRLF. Pure functions of their input (no I/O), thread-safe: the fuzz target calls them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"

namespace anshin::admin::import {

enum class Encoding { kAuto, kUtf8, kCp932 };

// "auto", "utf-8"/"utf8", "shift_jis"/"sjis"/"cp932"/"windows-31j" (case-insensitive).
Result<Encoding> ParseEncoding(std::string_view name);
std::string_view EncodingName(Encoding e);

struct DecodedText {
  std::string utf8;   // without a BOM
  Encoding encoding;  // what the bytes were (never kAuto)
};

// Errors name the row (1-based) of the first byte that cannot be decoded.
Result<DecodedText> DecodeText(std::string_view bytes, Encoding encoding);

struct CsvRecord {
  int row = 0;  // 1-based, as a spreadsheet numbers it
  std::vector<std::string> fields;
};

// Splits UTF-8 text into records. A quoting error names its row.
Result<std::vector<CsvRecord>> SplitCsv(std::string_view utf8);

}  // namespace anshin::admin::import

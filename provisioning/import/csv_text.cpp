#include "provisioning/import/csv_text.hpp"

#include <csv.h>
#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>

#include "common/validate.hpp"

namespace anshin::admin::import {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The 1-based row holding byte `offset` of `text` (rows are separated by LF).
int RowAt(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + offset, '\n'));
}

Result<std::string> FromCp932(std::string_view bytes) {
  iconv_t cd = iconv_open("UTF-8", "CP932");
  if (cd == reinterpret_cast<iconv_t>(-1))
    return Status::Internal("iconv: CP932 is not available on this system");
  std::unique_ptr<void, int (*)(iconv_t)> guard(cd, iconv_close);
  std::string out;
  out.resize(bytes.size() * 3 + 16);  // a CP932 character is at most 3 bytes in UTF-8
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  char* o = out.data();
  std::size_t out_left = out.size();
  if (iconv(cd, &in, &in_left, &o, &out_left) == static_cast<std::size_t>(-1)) {
    const std::size_t at = bytes.size() - in_left;
    if (errno == EILSEQ || errno == EINVAL) {
      return Status::InvalidArgument("row " + std::to_string(RowAt(bytes, at)) +
                                     ": not valid Shift_JIS (CP932) text; save the file as "
                                     "\"CSV UTF-8\" or give --encoding");
    }
    return Status::Internal(std::string("iconv: ") + std::strerror(errno));
  }
  out.resize(out.size() - out_left);
  return out;
}

struct SplitState {
  std::vector<CsvRecord> records;
  std::vector<std::string> fields;
  int row = 0;  // rows finished so far
  bool in_record = false;
};

void OnField(void* s, std::size_t len, void* data) {
  auto* st = static_cast<SplitState*>(data);
  st->fields.emplace_back(static_cast<const char*>(s), len);
  st->in_record = true;
}

void OnRecord(int /*terminator*/, void* data) {
  auto* st = static_cast<SplitState*>(data);
  CsvRecord r;
  r.row = ++st->row;
  r.fields = std::move(st->fields);
  st->fields.clear();
  st->in_record = false;
  // A quoted field's line ends stay in its record: a spreadsheet shows it as one row too.
  st->records.push_back(std::move(r));
}

}  // namespace

Result<Encoding> ParseEncoding(std::string_view name) {
  const std::string n = Lower(name);
  if (n == "auto") return Encoding::kAuto;
  if (n == "utf-8" || n == "utf8") return Encoding::kUtf8;
  if (n == "shift_jis" || n == "shift-jis" || n == "sjis" || n == "cp932" || n == "windows-31j")
    return Encoding::kCp932;
  return Status::InvalidArgument("encoding: expected auto, utf-8 or shift_jis");
}

std::string_view EncodingName(Encoding e) {
  switch (e) {
    case Encoding::kAuto:
      return "auto";
    case Encoding::kUtf8:
      return "utf-8";
    case Encoding::kCp932:
      return "shift_jis";
  }
  return "auto";
}

Result<DecodedText> DecodeText(std::string_view bytes, Encoding encoding) {
  if (bytes.starts_with("\xFF\xFE") || bytes.starts_with("\xFE\xFF")) {
    return Status::InvalidArgument(
        "the file is UTF-16 (Excel's \"Unicode text\"); save it as \"CSV UTF-8\" or \"CSV\"");
  }
  const bool bom = bytes.starts_with(kUtf8Bom);
  if (encoding == Encoding::kAuto) {
    encoding = (bom || IsValidUtf8(bytes)) ? Encoding::kUtf8 : Encoding::kCp932;
  }
  if (encoding == Encoding::kUtf8) {
    if (bom) bytes.remove_prefix(kUtf8Bom.size());
    if (!IsValidUtf8(bytes)) {
      std::size_t i = 0;
      while (i < bytes.size()) {
        const std::size_t n = Utf8CharLength(bytes, i);
        if (n == 0) break;
        i += n;
      }
      return Status::InvalidArgument("row " + std::to_string(RowAt(bytes, i)) +
                                     ": not valid UTF-8 text; give --encoding shift_jis if the "
                                     "file was saved by Excel as \"CSV\"");
    }
    return DecodedText{std::string(bytes), Encoding::kUtf8};
  }
  ANSHIN_ASSIGN_OR_RETURN(std::string utf8, FromCp932(bytes));
  return DecodedText{std::move(utf8), Encoding::kCp932};
}

Result<std::vector<CsvRecord>> SplitCsv(std::string_view utf8) {
  // CRLF becomes LF, inside quoted fields too, so that each unquoted LF is one row end.
  std::string text;
  text.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    if (utf8[i] == '\r' && i + 1 < utf8.size() && utf8[i + 1] == '\n') continue;
    text.push_back(utf8[i]);
  }

  csv_parser p;
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL) != 0)
    return Status::Internal("libcsv: csv_init failed");
  std::unique_ptr<csv_parser, void (*)(csv_parser*)> guard(&p, csv_free);
  SplitState st;
  const std::size_t done = csv_parse(&p, text.data(), text.size(), OnField, OnRecord, &st);
  int err = csv_error(&p);
  if (done == text.size() && err == CSV_SUCCESS) {
    if (csv_fini(&p, OnField, OnRecord, &st) != 0) err = csv_error(&p);
  }
  if (err != CSV_SUCCESS) {
    if (err == CSV_EPARSE) {
      return Status::InvalidArgument(
          "row " + std::to_string(st.row + 1) +
          ": badly quoted field (a \" inside a field must be doubled, and a quoted field must "
          "end with \")");
    }
    return Status::Internal(std::string("libcsv: ") + csv_strerror(err));
  }
  return std::move(st.records);
}

}  // namespace anshin::admin::import

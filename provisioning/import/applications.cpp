#include "provisioning/import/applications.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>

#include "common/validate.hpp"

namespace anshin::admin::import {
namespace {

enum class Kind {
  kChildNumber,
  kName,
  kKana,
  kFacility,
  kGrade,
  kGuardianEmail,
  kGuardianArrival,
  kGuardianDeparture,
  kDeparture,
  kAttends,
};

struct Column {
  Kind kind;
  int index = 0;  // guardian slot 1..4, or weekday 0..6
  friend auto operator<=>(const Column&, const Column&) = default;
};

constexpr std::array<std::string_view, 7> kDayEn = {"sun", "mon", "tue", "wed",
                                                    "thu", "fri", "sat"};
constexpr std::array<std::string_view, 7> kDayJa = {"日", "月", "火", "水", "木", "金", "土"};

std::string CanonicalName(Column c) {
  const std::string n = std::to_string(c.index);
  switch (c.kind) {
    case Kind::kChildNumber:
      return "child_number";
    case Kind::kName:
      return "name";
    case Kind::kKana:
      return "kana";
    case Kind::kFacility:
      return "facility";
    case Kind::kGrade:
      return "grade";
    case Kind::kGuardianEmail:
      return "guardian" + n + "_email";
    case Kind::kGuardianArrival:
      return "guardian" + n + "_arrival";
    case Kind::kGuardianDeparture:
      return "guardian" + n + "_departure";
    case Kind::kDeparture:
      return "departure_" + std::string(kDayEn[c.index]);
    case Kind::kAttends:
      return "attends";
  }
  return {};
}

std::string JapaneseName(Column c) {
  const std::string n = std::to_string(c.index);
  switch (c.kind) {
    case Kind::kChildNumber:
      return "児童番号";
    case Kind::kName:
      return "氏名";
    case Kind::kKana:
      return "ふりがな";
    case Kind::kFacility:
      return "施設コード";
    case Kind::kGrade:
      return "学年";
    case Kind::kGuardianEmail:
      return "保護者" + n + "メール";
    case Kind::kGuardianArrival:
      return "保護者" + n + "来館";
    case Kind::kGuardianDeparture:
      return "保護者" + n + "退館";
    case Kind::kDeparture:
      return std::string(kDayJa[c.index]) + "曜退館";
    case Kind::kAttends:
      return "通所曜日";
  }
  return {};
}

// Every accepted header spelling (normalized as by NormalizeCell + lower case) -> its column.
const std::map<std::string, Column>& HeaderNames() {
  static const std::map<std::string, Column> names = [] {
    std::map<std::string, Column> m;
    auto add = [&m](Column c, std::initializer_list<std::string> spellings) {
      m.emplace(CanonicalName(c), c);
      m.emplace(JapaneseName(c), c);
      for (const auto& s : spellings) m.emplace(s, c);
    };
    add({Kind::kChildNumber}, {"児童id", "児童no"});
    add({Kind::kName}, {"児童氏名", "名前"});
    add({Kind::kKana}, {"フリガナ", "よみがな", "ふりがな(児童)"});
    add({Kind::kFacility}, {"facility_code", "施設"});
    add({Kind::kGrade}, {});
    add({Kind::kAttends}, {"利用曜日", "attend_days", "曜日"});
    for (int i = 1; i <= kMaxGuardianColumns; ++i) {
      const std::string n = std::to_string(i);
      add({Kind::kGuardianEmail, i}, {"保護者" + n + "メールアドレス"});
      add({Kind::kGuardianArrival, i}, {"保護者" + n + "来館通知", "保護者" + n + "来館メール"});
      add({Kind::kGuardianDeparture, i}, {"保護者" + n + "退館通知", "保護者" + n + "退館メール"});
    }
    for (int d = 0; d < 7; ++d) {
      add({Kind::kDeparture, d},
          {std::string(kDayJa[d]) + "曜日退館", std::string(kDayJa[d]) + "曜退館予定"});
    }
    return m;
  }();
  return names;
}

// Full-width ASCII forms (U+FF01..U+FF5E) become ASCII, the ideographic space a space, and
// surrounding spaces go.
std::string NormalizeCell(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    std::size_t n = Utf8CharLength(s, i, &cp);
    if (n == 0) n = 1;  // left as is; the field's own check reports it
    if (n == 3 && cp >= 0xFF01 && cp <= 0xFF5E) {
      out.push_back(static_cast<char>(cp - 0xFEE0));
    } else if (n == 3 && cp == 0x3000) {
      out.push_back(' ');
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  const auto first = out.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const auto last = out.find_last_not_of(" \t");
  return out.substr(first, last - first + 1);
}

std::string LowerAscii(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "name: contains a control character" -> "contains a control character".
std::string WithoutField(const Status& s, std::string_view field) {
  std::string m = s.message();
  const std::string prefix = std::string(field) + ": ";
  if (m.starts_with(prefix)) m.erase(0, prefix.size());
  return m;
}

// 1/0, ○/×, はい/いいえ; empty: yes.
std::optional<bool> ParseChoice(std::string_view s) {
  if (s.empty()) return true;
  static const std::array<std::string_view, 6> yes = {"1", "○", "〇", "◯", "はい", "yes"};
  static const std::array<std::string_view, 5> no = {"0", "×", "✕", "いいえ", "no"};
  const std::string l = LowerAscii(std::string(s));
  if (std::find(yes.begin(), yes.end(), l) != yes.end()) return true;
  if (std::find(no.begin(), no.end(), l) != no.end()) return false;
  return std::nullopt;
}

// "17:30", "9:05", "17:30:00".
std::optional<LocalTime> ParseTimeCell(std::string s) {
  if (s.size() >= 4 && s[1] == ':') s.insert(0, "0");
  if (s.size() == 8 && s.ends_with(":00")) s.resize(5);
  auto t = LocalTime::Parse(s);
  if (!t.ok()) return std::nullopt;
  return *t;
}

class RowParser {
 public:
  RowParser(const std::vector<Column>& columns, ParsedApplications& out)
      : columns_(columns), out_(out) {}

  void Parse(const CsvRecord& rec) {
    Application a;
    a.row = rec.row;
    std::array<std::optional<bool>, kMaxGuardianColumns + 1> arrival{}, departure{};
    std::array<std::string, kMaxGuardianColumns + 1> email{};
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      const Column c = columns_[i];
      const std::string v = i < rec.fields.size() ? NormalizeCell(rec.fields[i]) : std::string();
      const std::string col = CanonicalName(c);
      switch (c.kind) {
        case Kind::kChildNumber:
          // Its form is the services' rule (CheckChildNumber), applied by the import.
          if (v.empty()) Error(rec.row, col, "required");
          a.child_number = v;
          break;
        case Kind::kName:
          if (Status s = CheckName(col, v); !s.ok()) Error(rec.row, col, WithoutField(s, col));
          a.name = v;
          break;
        case Kind::kKana:
          if (!v.empty()) {
            if (Status s = CheckName(col, v); !s.ok()) Error(rec.row, col, WithoutField(s, col));
          }
          a.kana = v;
          break;
        case Kind::kFacility:
          if (v.empty()) Error(rec.row, col, "required");
          a.facility = v;
          break;
        case Kind::kGrade: {
          std::string g = v;
          if (g.ends_with("年")) g.resize(g.size() - std::string_view("年").size());
          if (g.empty()) {
            a.grade = std::optional<int>();
          } else if (g.size() == 1 && g[0] >= '1' && g[0] <= '6') {
            a.grade = std::optional<int>(g[0] - '0');
          } else {
            Error(rec.row, col, "expected a grade from 1 to 6");
          }
          break;
        }
        case Kind::kGuardianEmail:
          email[c.index] = v;
          if (!v.empty()) {
            if (Status s = CheckEmailAddress(v); !s.ok())
              Error(rec.row, col, WithoutField(s, "mail address"));
          }
          break;
        case Kind::kGuardianArrival:
        case Kind::kGuardianDeparture: {
          auto choice = ParseChoice(v);
          if (!choice) {
            Error(rec.row, col, "expected 1/0, ○/× or はい/いいえ");
            break;
          }
          if (!v.empty()) {
            (c.kind == Kind::kGuardianArrival ? arrival : departure)[c.index] = *choice;
          }
          break;
        }
        case Kind::kAttends:
          if (auto days = ParseAttendsCell(v)) {
            a.attends = *days;
          } else {
            Error(rec.row, col, "expected weekdays such as 月・水・金 or mon,wed,fri");
          }
          break;
        case Kind::kDeparture:
          if (v.empty()) {
            a.departure[c.index] = std::optional<LocalTime>();
          } else if (auto t = ParseTimeCell(v)) {
            a.departure[c.index] = std::optional<LocalTime>(*t);
          } else {
            Error(rec.row, col, "expected a time of day as HH:MM");
          }
          break;
      }
    }
    for (int slot = 1; slot <= kMaxGuardianColumns; ++slot) {
      if (email[slot].empty()) {
        if (arrival[slot] || departure[slot]) {
          Error(rec.row, CanonicalName({Kind::kGuardianEmail, slot}),
                "required when guardian" + std::to_string(slot) + "'s choices are given");
        }
        continue;
      }
      for (const GuardianEntry& e : a.guardians) {
        if (LowerAscii(e.email) == LowerAscii(email[slot])) {
          Error(rec.row, CanonicalName({Kind::kGuardianEmail, slot}),
                "the same address as guardian" + std::to_string(e.slot) + "_email");
        }
      }
      a.guardians.push_back(
          {slot, email[slot], arrival[slot].value_or(true), departure[slot].value_or(true)});
    }
    if (a.guardians.empty())
      Error(rec.row, "guardian1_email", "a child needs a guardian's address");
    if (!a.child_number.empty()) {
      auto [it, inserted] = rows_by_number_.emplace(LowerAscii(a.child_number), rec.row);
      if (!inserted) {
        Error(rec.row, "child_number",
              "the same child number as row " + std::to_string(it->second));
      }
    }
    out_.rows.push_back(std::move(a));
  }

  void Error(int row, std::string column, std::string message) {
    out_.errors.push_back({row, std::move(column), std::move(message)});
  }

 private:
  const std::vector<Column>& columns_;
  ParsedApplications& out_;
  std::map<std::string, int> rows_by_number_;
};

bool IsBlank(const CsvRecord& r) {
  return std::all_of(r.fields.begin(), r.fields.end(),
                     [](const std::string& f) { return NormalizeCell(f).empty(); });
}

}  // namespace

std::optional<std::uint8_t> ParseAttendsCell(std::string_view cell) {
  std::uint8_t bits = 0;
  auto take = [&cell](std::string_view s) {
    if (!cell.starts_with(s)) return false;
    cell.remove_prefix(s.size());
    return true;
  };
  while (!cell.empty()) {
    if (take(",") || take(" ") || take("/") || take("、") || take("・") || take("，")) continue;
    bool found = false;
    for (int d = 0; d < 7 && !found; ++d) {
      if (take(kDayJa[d])) {
        if (take("曜")) take("日");  // 月曜 / 月曜日
        found = true;
      } else if (cell.size() >= 3 && LowerAscii(std::string(cell.substr(0, 3))) == kDayEn[d]) {
        cell.remove_prefix(3);
        found = true;
      }
      if (found) bits = static_cast<std::uint8_t>(bits | (1u << d));
    }
    if (!found) return std::nullopt;
  }
  return bits;
}

std::string RowError::ToString() const {
  std::string s = "row " + std::to_string(row);
  if (!column.empty()) s += ", column " + column;
  return s + ": " + message;
}

Result<ParsedApplications> ParseApplications(std::string_view bytes, Encoding encoding) {
  ANSHIN_ASSIGN_OR_RETURN(DecodedText text, DecodeText(bytes, encoding));
  ANSHIN_ASSIGN_OR_RETURN(std::vector<CsvRecord> records, SplitCsv(text.utf8));
  ParsedApplications out;
  out.encoding = text.encoding;

  auto header =
      std::find_if(records.begin(), records.end(), [](const CsvRecord& r) { return !IsBlank(r); });
  if (header == records.end()) {
    out.errors.push_back({1, "", "the file has no header row"});
    return out;
  }
  std::vector<Column> columns;
  std::map<Column, int> seen;
  bool header_ok = true;
  for (std::size_t i = 0; i < header->fields.size(); ++i) {
    const std::string name = LowerAscii(NormalizeCell(header->fields[i]));
    const std::string position = "column " + std::to_string(i + 1);
    auto it = HeaderNames().find(name);
    if (it == HeaderNames().end()) {
      out.errors.push_back({header->row, "",
                            position + ": unknown column name (see `import applications "
                                       "--template` for the accepted names)"});
      header_ok = false;
      continue;
    }
    if (auto [s, inserted] = seen.emplace(it->second, static_cast<int>(i + 1)); !inserted) {
      out.errors.push_back({header->row, CanonicalName(it->second),
                            "named twice (columns " + std::to_string(s->second) + " and " +
                                std::to_string(i + 1) + ")"});
      header_ok = false;
    }
    columns.push_back(it->second);
  }
  for (Kind k : {Kind::kChildNumber, Kind::kName, Kind::kFacility, Kind::kGuardianEmail}) {
    Column c{k, k == Kind::kGuardianEmail ? 1 : 0};
    if (!seen.contains(c)) {
      out.errors.push_back({header->row, CanonicalName(c), "missing from the header row"});
      header_ok = false;
    }
  }
  for (int slot = 1; slot <= kMaxGuardianColumns; ++slot) {
    for (Kind k : {Kind::kGuardianArrival, Kind::kGuardianDeparture}) {
      if (seen.contains({k, slot}) && !seen.contains({Kind::kGuardianEmail, slot})) {
        out.errors.push_back({header->row, CanonicalName({k, slot}),
                              "given without guardian" + std::to_string(slot) + "_email"});
        header_ok = false;
      }
    }
  }
  if (!header_ok) return out;

  RowParser parser(columns, out);
  for (auto it = header + 1; it != records.end(); ++it) {
    if (IsBlank(*it)) continue;
    if (it->fields.size() > columns.size()) {
      parser.Error(it->row, "",
                   std::to_string(it->fields.size()) + " fields, but the header names " +
                       std::to_string(columns.size()) + " columns");
      continue;
    }
    parser.Parse(*it);
  }
  std::stable_sort(out.errors.begin(), out.errors.end(),
                   [](const RowError& a, const RowError& b) { return a.row < b.row; });
  return out;
}

std::string ApplicationTemplate(bool japanese_headers) {
  std::vector<Column> columns = {{Kind::kChildNumber},
                                 {Kind::kName},
                                 {Kind::kKana},
                                 {Kind::kFacility},
                                 {Kind::kGrade},
                                 {Kind::kGuardianEmail, 1},
                                 {Kind::kGuardianArrival, 1},
                                 {Kind::kGuardianDeparture, 1},
                                 {Kind::kGuardianEmail, 2},
                                 {Kind::kGuardianArrival, 2},
                                 {Kind::kGuardianDeparture, 2},
                                 {Kind::kAttends}};
  for (int d = 1; d <= 6; ++d) columns.push_back({Kind::kDeparture, d});
  std::string out = "\xEF\xBB\xBF";
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i) out += ',';
    out += japanese_headers ? JapaneseName(columns[i]) : CanonicalName(columns[i]);
  }
  out +=
      "\r\nA0001,練馬 さくら,ねりま さくら,hikari1,1,mother@example.jp,1,1,father@example.jp,0,"
      "1,月・火・水・木・金,17:30,17:30,18:00,17:30,18:00,\r\n";
  return out;
}

}  // namespace anshin::admin::import

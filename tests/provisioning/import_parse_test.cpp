// The application file's parser: encodings (UTF-8, UTF-8 with BOM, Shift_JIS made by the
// iconv command as Excel would save it), English and Japanese headers, every kind of bad row.
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "provisioning/import/applications.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::admin::import {
namespace {

// The text converted by the iconv command (not the code under test's iconv calls).
std::string ToCp932(const std::string& utf8) {
  fakes::TempDir dir("import-parse");
  const auto in = dir / "in.csv";
  FILE* f = std::fopen(in.c_str(), "wb");
  REQUIRE(f != nullptr);
  std::fwrite(utf8.data(), 1, utf8.size(), f);
  std::fclose(f);
  FILE* p = popen(("iconv -f UTF-8 -t CP932 " + in.string()).c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  REQUIRE(pclose(p) == 0);
  return out;
}

const std::string kJapaneseFile =
    "児童番号,氏名,ふりがな,施設コード,学年,保護者1メール,保護者1来館,保護者1退館,"
    "保護者2メール,保護者2来館,保護者2退館,月曜退館,金曜退館,通所曜日\r\n"
    "A0001,練馬 さくら,ねりま さくら,hikari1,１年,mother@example.jp,○,○,"
    "father@example.jp,×,はい,17:30,１８：００,月・水・金\r\n"
    "A0002,髙橋 ①太郎,たかはし たろう,hikari1,2,taro.mama@example.jp,1,0,,,,,,\r\n";

std::vector<std::string> Messages(const ParsedApplications& p) {
  std::vector<std::string> m;
  for (const auto& e : p.errors) m.push_back(e.ToString());
  return m;
}

void CheckJapaneseFile(const ParsedApplications& p) {
  INFO(Catch::Detail::stringify(Messages(p)));
  REQUIRE(p.errors.empty());
  REQUIRE(p.rows.size() == 2);
  const Application& a = p.rows[0];
  CHECK(a.row == 2);
  CHECK(a.child_number == "A0001");
  CHECK(a.name == "練馬 さくら");
  CHECK(a.kana == std::optional<std::string>("ねりま さくら"));
  CHECK(a.facility == "hikari1");
  REQUIRE(a.grade.has_value());
  CHECK(*a.grade == std::optional<int>(1));
  REQUIRE(a.guardians.size() == 2);
  CHECK(a.guardians[0].email == "mother@example.jp");
  CHECK(a.guardians[0].arrival);
  CHECK(a.guardians[0].departure);
  CHECK(a.guardians[1].email == "father@example.jp");
  CHECK_FALSE(a.guardians[1].arrival);
  CHECK(a.guardians[1].departure);
  REQUIRE(a.departure[1].has_value());
  CHECK(*a.departure[1] == std::optional<LocalTime>(LocalTime::HM(17, 30)));
  CHECK(*a.departure[5] == std::optional<LocalTime>(LocalTime::HM(18, 0)));
  CHECK_FALSE(a.departure[3].has_value());  // no Wednesday column: keep what is stored
  CHECK(a.attends == std::optional<std::uint8_t>(0b0101010));  // mon, wed, fri
  const Application& b = p.rows[1];
  CHECK(b.name == "髙橋 ①太郎");  // CP932's IBM and NEC extensions survive the round trip
  REQUIRE(b.guardians.size() == 1);
  CHECK(b.guardians[0].arrival);
  CHECK_FALSE(b.guardians[0].departure);
  CHECK(*b.departure[1] == std::optional<LocalTime>());  // present but empty: cleared
  CHECK(b.attends == std::optional<std::uint8_t>(0));    // present but empty: none
}

TEST_CASE("the attends cell: kanji, 曜 and 曜日, English, separators, and what is not a day") {
  auto bits = [](std::string_view s) { return ParseAttendsCell(s); };
  const std::uint8_t mwf = 0b0101010;
  for (std::string_view s : {"月・水・金", "月水金", "月曜,水曜,金曜", "月曜日、水曜日、金曜日",
                             "mon,wed,fri", "Mon Wed Fri", "金/水/月"}) {
    INFO(s);
    CHECK(bits(s) == std::optional<std::uint8_t>(mwf));
  }
  CHECK(bits("日") == std::optional<std::uint8_t>(1));
  CHECK(bits("日曜日,土曜") == std::optional<std::uint8_t>(0b1000001));
  CHECK(bits("月火水木金土日") == std::optional<std::uint8_t>(0x7F));
  CHECK(bits("") == std::optional<std::uint8_t>(0));
  for (std::string_view s : {"毎日", "平日", "monday", "1,3,5", "月x"}) {
    INFO(s);
    CHECK_FALSE(bits(s).has_value());
  }
}

TEST_CASE("a Japanese-headed file reads the same as UTF-8, UTF-8 with BOM and Shift_JIS") {
  SECTION("UTF-8") {
    auto p = ParseApplications(kJapaneseFile, Encoding::kAuto);
    REQUIRE(p.ok());
    CHECK(p->encoding == Encoding::kUtf8);
    CheckJapaneseFile(*p);
  }
  SECTION("UTF-8 with a BOM") {
    auto p = ParseApplications("\xEF\xBB\xBF" + kJapaneseFile, Encoding::kAuto);
    REQUIRE(p.ok());
    CheckJapaneseFile(*p);
  }
  SECTION("Shift_JIS, detected") {
    auto p = ParseApplications(ToCp932(kJapaneseFile), Encoding::kAuto);
    REQUIRE(p.ok());
    CHECK(p->encoding == Encoding::kCp932);
    CheckJapaneseFile(*p);
  }
  SECTION("Shift_JIS, given") {
    auto p = ParseApplications(ToCp932(kJapaneseFile), Encoding::kCp932);
    REQUIRE(p.ok());
    CheckJapaneseFile(*p);
  }
  SECTION("Shift_JIS read as UTF-8 names the row") {
    auto p = ParseApplications(ToCp932(kJapaneseFile), Encoding::kUtf8);
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().message().starts_with("row 1: not valid UTF-8"));
  }
}

TEST_CASE("English headers in any order, quoted fields with commas and line ends") {
  const std::string file =
      "guardian1_email,facility,name,child_number,guardian1_departure\n"
      "a@example.jp,hikari1,\"Smith, \"\"Jo\"\"\",B-7,no\n"
      "\n"
      "b@example.jp,hikari2,\"two\nlines\",B-8,\n";
  auto p = ParseApplications(file, Encoding::kAuto);
  REQUIRE(p.ok());
  REQUIRE(p->rows.size() == 2);
  CHECK(p->rows[0].name == "Smith, \"Jo\"");
  CHECK(p->rows[0].child_number == "B-7");
  CHECK_FALSE(p->rows[0].guardians[0].departure);
  CHECK_FALSE(p->rows[0].kana.has_value());
  CHECK(p->rows[1].row == 4);  // the blank line is row 3
  // A name with a line end is refused by the name rule (it goes into mail headers).
  REQUIRE(p->errors.size() == 1);
  CHECK(p->errors[0].ToString() == "row 4, column name: contains a line break");
}

TEST_CASE("every kind of bad row is reported with its row and column, none stops the rest") {
  const std::string file =
      "child_number,name,facility,grade,guardian1_email,guardian1_arrival,guardian2_email,"
      "departure_mon,attends\n"
      "C1,Good Child,hikari1,1,ok@example.jp,1,,,月水\n"        // row 2: fine
      ",No Number,hikari1,1,ok2@example.jp,1,,\n"               // 3
      "C 3,Bad Number,hikari1,1,ok3@example.jp,1,,\n"           // 4: the import's (services') rule
      "C4,,hikari1,1,ok4@example.jp,1,,\n"                      // 5
      "C5,Bad Grade,hikari1,7,ok5@example.jp,1,,\n"             // 6
      "C6,Bad Mail,hikari1,1,not-an-address,1,,\n"              // 7
      "C7,Bad Choice,hikari1,1,ok7@example.jp,maybe,,\n"        // 8
      "C8,Bad Time,hikari1,1,ok8@example.jp,1,,25:00,平日\n"    // 9
      "C9,Same Twice,hikari1,1,x@example.jp,1,X@example.jp,\n"  // 10
      "C1,Number Again,hikari1,1,ok10@example.jp,1,,\n"         // 11
      "C11,No Guardian,hikari1,1,,,,\n"                         // 12
      "C12,No Facility,,1,ok12@example.jp,1,,\n"                // 13
      "C13,Too Many,hikari1,1,ok13@example.jp,1,,,,extra\n";    // 14
  auto p = ParseApplications(file, Encoding::kAuto);
  REQUIRE(p.ok());
  const std::vector<std::string> expected = {
      "row 3, column child_number: required",
      "row 5, column name: must not be empty",
      "row 6, column grade: expected a grade from 1 to 6",
      "row 7, column guardian1_email: ",
      "row 8, column guardian1_arrival: expected 1/0, ○/× or はい/いいえ",
      "row 9, column departure_mon: expected a time of day as HH:MM",
      "row 9, column attends: expected weekdays such as 月・水・金 or mon,wed,fri",
      "row 10, column guardian2_email: the same address as guardian1_email",
      "row 11, column child_number: the same child number as row 2",
      "row 12, column guardian1_email: a child needs a guardian's address",
      "row 13, column facility: required",
      "row 14: 10 fields, but the header names 9 columns",
  };
  const auto got = Messages(*p);
  INFO(Catch::Detail::stringify(got));
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(got[i].starts_with(expected[i]));
  // No cell's value is repeated in a message (it may be personal data).
  for (const auto& m : got) CHECK(m.find("not-an-address") == std::string::npos);
}

TEST_CASE("header problems are reported on row 1 and stop the rows being read") {
  auto p = ParseApplications("child_number,name,nickname,name\nC1,A,B,C\n", Encoding::kAuto);
  REQUIRE(p.ok());
  const auto got = Messages(*p);
  INFO(Catch::Detail::stringify(got));
  CHECK(p->rows.empty());
  CHECK(std::find(got.begin(), got.end(),
                  "row 1: column 3: unknown column name (see `import applications --template` "
                  "for the accepted names)") != got.end());
  CHECK(std::find(got.begin(), got.end(), "row 1, column name: named twice (columns 2 and 4)") !=
        got.end());
  CHECK(std::find(got.begin(), got.end(), "row 1, column facility: missing from the header row") !=
        got.end());
}

TEST_CASE("file-level problems: bad quoting, UTF-16, empty") {
  auto q = ParseApplications("child_number,name\nC1,\"open\n", Encoding::kAuto);
  REQUIRE_FALSE(q.ok());
  CHECK(q.status().message().starts_with("row 2: badly quoted field"));
  auto u = ParseApplications(std::string("\xFF\xFE", 2) + "a", Encoding::kAuto);
  REQUIRE_FALSE(u.ok());
  CHECK(u.status().message().find("UTF-16") != std::string::npos);
  auto e = ParseApplications("", Encoding::kAuto);
  REQUIRE(e.ok());
  REQUIRE(e->errors.size() == 1);
  CHECK(e->errors[0].ToString() == "row 1: the file has no header row");
}

TEST_CASE("the template parses cleanly with both header languages") {
  for (bool ja : {false, true}) {
    auto p = ParseApplications(ApplicationTemplate(ja), Encoding::kAuto);
    REQUIRE(p.ok());
    INFO(Catch::Detail::stringify(Messages(*p)));
    CHECK(p->errors.empty());
    REQUIRE(p->rows.size() == 1);
    CHECK(p->rows[0].guardians.size() == 2);
    CHECK(p->rows[0].attends == std::optional<std::uint8_t>(0b0111110));  // mon..fri
  }
}

}  // namespace
}  // namespace anshin::admin::import

// The one mail-address rule and the one name rule (common/validate.hpp).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/validate.hpp"

namespace anshin {
namespace {

struct Case {
  std::string label;
  std::string value;
};

// What the messages may contain: never the value itself (personal data).
void CheckNotEchoed(const Status& s, const std::string& value) {
  if (value.size() >= 3) CHECK(s.message().find(value) == std::string::npos);
}

TEST_CASE("good mail addresses are accepted", "[validate]") {
  const std::vector<std::string> good = {
      "sakura.mama@example.jp",
      "a+b@mail.example.co.jp",
      "parent@example.com",
      "Taro_Yamada-1@Example.JP",
      "!#$%&'*+-/=?^_`{|}~@example.jp",
      "taro..yamada.@docomo.ne.jp",  // legacy carrier forms: double dot, dot before '@'
      "x@a-b.c-d.jp",
      "x@123.example.jp",
      std::string(64, 'a') + "@example.jp",
      "a@" + std::string(63, 'b') + ".jp",
      // 254 octets in all: 64 + 1 + 189
      std::string(64, 'a') + "@" + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
          std::string(61, 'd'),
  };
  for (const std::string& a : good) {
    INFO(a);
    CHECK(CheckEmailAddress(a).ok());
  }
}

TEST_CASE("bad mail addresses are refused with a reason", "[validate]") {
  const std::vector<Case> bad = {
      // The defects of issue 9: accepted at registration, refused at send time.
      {"underscore in the domain", "a@x_y.jp"},
      {"label starting with a hyphen", "a@-x.jp"},
      {"brackets in the local part", "a[b]@x.jp"},
      {"local part of 65 octets", std::string(65, 'a') + "@x.jp"},
      // More of the same rule.
      {"label ending with a hyphen", "a@x-.jp"},
      {"single-label domain", "parent@localhost"},
      {"trailing dot in the domain", "a@example.jp."},
      {"empty label", "p@example..com"},
      {"leading dot in the domain", "a@.example.jp"},
      {"label of 64 octets", "a@" + std::string(64, 'b') + ".jp"},
      {"address of 255 octets", std::string(64, 'a') + "@" + std::string(63, 'b') + "." +
                                    std::string(63, 'c') + "." + std::string(62, 'd')},
      {"address literal", "a@[192.0.2.1]"},
      {"leading dot in the local part", ".a@example.jp"},
      {"only dots", "...@example.com"},
      {"empty", ""},
      {"no @", "parent"},
      {"two @", "a@b@example.com"},
      {"empty local part", "@example.jp"},
      {"empty domain", "a@"},
      {"space", "par ent@example.com"},
      {"CRLF header injection", "parent@example.com\r\nBcc: x@evil.jp"},
      {"trailing LF", "parent@example.com\n"},
      {"TAB", "a\tb@example.jp"},
      {"NUL", std::string("a\0b@example.jp", 14)},
      {"DEL", "a\x7f@example.jp"},
      {"angle brackets", "<parent@example.com>"},
      {"quoted string", "\"a b\"@example.jp"},
      {"comment", "a(x)@example.jp"},
      {"comma", "a,b@example.jp"},
      {"semicolon", "a;b@example.jp"},
      {"colon", "a:b@example.jp"},
      {"backslash", "a\\b@example.jp"},
      {"non-ASCII local part", "さくら@example.jp"},
      {"non-ASCII domain", "a@例え.jp"},
  };
  for (const Case& c : bad) {
    INFO(c.label);
    Status s = CheckEmailAddress(c.value);
    CHECK(s.code() == Status::Code::kInvalidArgument);
    CHECK_THAT(s.message(), Catch::Matchers::StartsWith("mail address: "));
    CheckNotEchoed(s, c.value);
  }
}

TEST_CASE("domain names follow the same rule as address domains", "[validate]") {
  CHECK(IsDomainName("kids.example.jp"));
  CHECK_FALSE(IsDomainName("x_y.jp"));
  CHECK_FALSE(IsDomainName("-x.jp"));
  CHECK_FALSE(IsDomainName("localhost"));
  CHECK_FALSE(IsDomainName(""));
}

TEST_CASE("good names are accepted", "[validate]") {
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "あ";
  const std::vector<std::string> good = {
      "練馬 さくら",
      "光が丘第一学童クラブ",
      "ｱｲｳ",  // half-width katakana: legal in a name, even if ISO-2022-JP mail cannot carry it
      "Sakura Nerima",
      "O'Brien-Smith",
      "さくら\xe3\x80\x80たろう",  // ideographic space inside
      "😀",
      hundred,  // kMaxNameChars code points, 300 octets
  };
  for (const std::string& n : good) {
    INFO(n);
    CHECK(CheckName("child name", n).ok());
  }
}

TEST_CASE("bad names are refused with a reason naming the field", "[validate]") {
  std::string hundred_and_one;
  for (int i = 0; i < 101; ++i) hundred_and_one += "あ";
  const std::vector<Case> bad = {
      {"TAB", "練馬\tさくら"},
      {"ESC", "さくら\x1b[31m"},
      {"C1 control U+0085", "さくら\xc2\x85"},
      {"C1 control U+009B (CSI)",
       "さくら\xc2\x9b"
       "31m"},
      {"C1 control U+0080",
       "\xc2\x80"
       "さくら"},
      {"invalid UTF-8 (stray byte)", "さくら\xff"},
      {"invalid UTF-8 (truncated)", "さくら\xe3\x81"},
      {"invalid UTF-8 (overlong)", "\xc0\xaf"},
      {"invalid UTF-8 (surrogate)", "\xed\xa0\x80"},
      {"100,000 characters", std::string(100000, 'x')},
      {"101 characters", hundred_and_one},
      {"line feed", "光が丘\n第一学童クラブ"},
      {"carriage return", "光が丘\r第一学童クラブ"},
      {"CRLF header injection", "evil\r\nBcc: x@y.jp"},
      {"line separator U+2028", "光が丘\xe2\x80\xa8第一"},
      {"paragraph separator U+2029", "光が丘\xe2\x80\xa9第一"},
      {"DEL", "さくら\x7f"},
      {"NUL", std::string("a\0b", 3)},
      {"empty", ""},
      {"only spaces", "   "},
      {"only ideographic spaces", "\xe3\x80\x80\xe3\x80\x80"},
      {"only no-break spaces", "\xc2\xa0"},
  };
  for (const Case& c : bad) {
    INFO(c.label);
    Status s = CheckName("facility name", c.value);
    CHECK(s.code() == Status::Code::kInvalidArgument);
    CHECK_THAT(s.message(), Catch::Matchers::StartsWith("facility name: "));
    CheckNotEchoed(s, c.value);
  }
}

TEST_CASE("name errors say what is wrong", "[validate]") {
  CHECK(CheckName("child name", "a\nb").message() == "child name: contains a line break");
  CHECK(CheckName("child name", "a\tb").message() == "child name: contains a control character");
  CHECK(CheckName("child name", "\xff").message() == "child name: is not valid UTF-8");
  CHECK(CheckName("child name", "").message() == "child name: must not be empty");
  CHECK(CheckName("child name", " ").message() == "child name: must not be only spaces");
  CHECK(CheckName("child name", std::string(101, 'x')).message() ==
        "child name: is longer than 100 characters");
  CHECK(CheckName("child name", "abcd", 3).message() == "child name: is longer than 3 characters");
  CHECK(CheckName("child name", "abc", 3).ok());
}

TEST_CASE("UTF-8 decoding reports code points and rejects malformed input", "[validate]") {
  char32_t cp = 0;
  CHECK(Utf8CharLength("あ", 0, &cp) == 3);
  CHECK(cp == U'あ');
  CHECK(Utf8CharLength("\xf0\x9f\x98\x80", 0, &cp) == 4);
  CHECK(cp == 0x1F600);
  CHECK(Utf8CharLength("\xf4\x90\x80\x80", 0) == 0);  // above U+10FFFF
  CHECK(Utf8CharLength("\xe0\x80\xaf", 0) == 0);      // overlong
  CHECK(IsValidUtf8("練馬"));
  CHECK_FALSE(IsValidUtf8("\x80"));
}

}  // namespace
}  // namespace anshin

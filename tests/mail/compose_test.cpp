// Unit tests of common/mail: templates, RFC 2047, MIME rendering, address and name checks.
// Every rendered message is decoded back and compared with what went in.
#include <catch2/catch.hpp>

#include <iconv.h>

#include <map>
#include <string>
#include <vector>

#include "common/mail/mime.hpp"
#include "common/mail/templates.hpp"
#include "common/validate.hpp"

namespace anshin::mail {
namespace {

const TimeZone kTokyo = TimeZone::Fixed("Asia/Tokyo", 9 * 3600);

TimePoint At(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

std::string FromIso2022Jp(std::string_view jis) {
  iconv_t cd = iconv_open("UTF-8", "ISO-2022-JP");
  REQUIRE(cd != reinterpret_cast<iconv_t>(-1));
  std::string out(jis.size() * 4 + 16, '\0');
  char* in = const_cast<char*>(jis.data());
  std::size_t in_left = jis.size();
  char* o = out.data();
  std::size_t o_left = out.size();
  REQUIRE(iconv(cd, &in, &in_left, &o, &o_left) != static_cast<std::size_t>(-1));
  iconv_close(cd);
  out.resize(out.size() - o_left);
  return out;
}

struct Parsed {
  std::map<std::string, std::string> headers;  // unfolded, raw
  std::vector<std::string> header_lines;       // physical lines
  std::string body;                            // raw body as sent
};

Parsed Split(const std::string& msg) {
  Parsed p;
  std::size_t end = msg.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  std::string head = msg.substr(0, end + 2);
  p.body = msg.substr(end + 4);
  std::string current;
  std::size_t pos = 0;
  while (pos < head.size()) {
    std::size_t nl = head.find("\r\n", pos);
    REQUIRE(nl != std::string::npos);
    std::string line = head.substr(pos, nl - pos);
    p.header_lines.push_back(line);
    pos = nl + 2;
    if (!line.empty() && line[0] == ' ') {
      current += line;
      continue;
    }
    if (!current.empty()) {
      auto colon = current.find(':');
      p.headers[current.substr(0, colon)] = current.substr(colon + 2);
    }
    current = line;
  }
  if (!current.empty()) {
    auto colon = current.find(':');
    p.headers[current.substr(0, colon)] = current.substr(colon + 2);
  }
  return p;
}

// Decodes a header value made of RFC 2047 B encoded-words separated by folding whitespace.
std::string DecodeWords(const std::string& value) {
  std::string out;
  std::size_t pos = 0;
  while (pos < value.size()) {
    if (value[pos] == ' ') {
      ++pos;
      continue;
    }
    if (value.compare(pos, 2, "=?") != 0) {
      std::size_t sp = value.find(' ', pos);
      out += value.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
      if (sp == std::string::npos) break;
      pos = sp;
      continue;
    }
    std::size_t q1 = value.find('?', pos + 2);
    std::string charset = value.substr(pos + 2, q1 - pos - 2);
    REQUIRE(value.compare(q1, 3, "?B?") == 0);
    std::size_t end = value.find("?=", q1 + 3);
    REQUIRE(end != std::string::npos);
    CHECK(end + 2 - pos <= 75);
    std::string raw = Base64Decode(value.substr(q1 + 3, end - q1 - 3)).value();
    out += charset == "ISO-2022-JP" ? FromIso2022Jp(raw) : raw;
    pos = end + 2;
  }
  return out;
}

MailMessage SampleMessage() {
  MailMessage m;
  m.from_address = "noreply@kids-anshin.example.jp";
  m.from_name = "ねりまキッズ安心メール";
  m.to = "parent@example.com";
  m.subject = "【キッズ安心メール】来館のお知らせ";
  m.body = "練馬 さくら さんが 11月26日 15:02 に 光が丘第一学童クラブ に来館しました。\n";
  m.message_id = MakeMessageId("42.1764136920000", "kids-anshin.example.jp").value();
  m.date = At("2026-11-26T06:02:00Z");
  return m;
}

void CheckLineLengths(const std::string& msg) {
  std::size_t pos = 0;
  while (pos < msg.size()) {
    std::size_t nl = msg.find("\r\n", pos);
    REQUIRE(nl != std::string::npos);  // every line ends in CRLF
    CHECK(nl - pos < 78);
    for (std::size_t i = pos; i < nl; ++i) {
      CHECK(static_cast<unsigned char>(msg[i]) < 0x80);
      CHECK(msg[i] != '\n');
      CHECK(msg[i] != '\r');
    }
    pos = nl + 2;
  }
}

TEST_CASE("arrival notice renders the ward's text") {
  Notice n;
  n.kind = NoticeKind::kArrival;
  n.at = At("2026-11-26T06:02:10Z");
  auto text =
      ComposeNotice(TemplateSet::Defaults(), n, "練馬 さくら", "光が丘第一学童クラブ", kTokyo);
  REQUIRE(text.ok());
  CHECK(text->subject == "【キッズ安心メール】来館のお知らせ");
  CHECK(text->body.starts_with(
      "練馬 さくらさんが11月26日 15:02に光が丘第一学童クラブに来館しました。\n"));
}

TEST_CASE("a notice of a tap staff recorded says so, whatever the templates") {
  Notice n;
  n.kind = NoticeKind::kDeparture;
  n.at = At("2026-11-26T09:31:00Z");
  auto card =
      ComposeNotice(TemplateSet::Defaults(), n, "練馬 さくら", "光が丘第一学童クラブ", kTokyo);
  REQUIRE(card.ok());
  CHECK(card->body.find(kStaffRecordedLine) == std::string::npos);
  n.staff_recorded = true;
  TemplateSet custom = TemplateSet::Defaults();
  REQUIRE(
      custom
          .Override(TemplateKind::kDeparture, "Subject: Left {child}\n\n{child} left at {time}.\n")
          .ok());
  for (const TemplateSet& t : {TemplateSet::Defaults(), custom}) {
    auto staff = ComposeNotice(t, n, "練馬 さくら", "光が丘第一学童クラブ", kTokyo);
    REQUIRE(staff.ok());
    CHECK(staff->body.find(kStaffRecordedLine) != std::string::npos);
  }
}

TEST_CASE("departure, inferred departure and correction texts") {
  TemplateSet t = TemplateSet::Defaults();
  Notice n;
  n.at = At("2026-11-26T09:31:00Z");  // 18:31 JST
  n.kind = NoticeKind::kDeparture;
  auto dep = ComposeNotice(t, n, "練馬 さくら", "光が丘第一学童クラブ", kTokyo).value();
  CHECK(dep.subject == "【キッズ安心メール】退館のお知らせ");
  CHECK(dep.body.find("11月26日 18:31に光が丘第一学童クラブを退館しました。") != std::string::npos);

  n.kind = NoticeKind::kInferredDeparture;
  auto inferred = ComposeNotice(t, n, "練馬 さくら", "光が丘第一学童クラブ", kTokyo).value();
  CHECK(inferred.body.find("退館しました") != std::string::npos);
  CHECK(inferred.body.find("かざし忘れ") != std::string::npos);
  CHECK(inferred.body.find("来館しました") == std::string::npos);  // never an arrival

  n.kind = NoticeKind::kCorrection;
  n.arrival_at = At("2026-11-26T07:45:00Z");  // 16:45 JST
  auto corr = ComposeNotice(t, n, "練馬 さくら", "光が丘第一学童クラブ", kTokyo).value();
  CHECK(corr.subject.find("訂正") != std::string::npos);
  CHECK(corr.body.find("16:45") != std::string::npos);
  CHECK(corr.body.find("来館の記録でした") != std::string::npos);

  n.arrival_at.reset();
  CHECK(!ComposeNotice(t, n, "練馬 さくら", "x", kTokyo).ok());
}

TEST_CASE("an inferred departure after a mailed arrival says so, not that none was mailed") {
  TemplateSet t = TemplateSet::Defaults();
  Notice n;
  n.kind = NoticeKind::kInferredDeparture;
  n.at = At("2026-11-26T09:31:00Z");          // 18:31 JST
  n.arrival_at = At("2026-11-26T06:02:00Z");  // 15:02 JST, mailed then
  auto m = ComposeNotice(t, n, "練馬 さくら", "光が丘第一学童クラブ", kTokyo).value();
  CHECK(m.subject == "【キッズ安心メール】退館のお知らせ（再来館の記録なし）");
  CHECK(m.body.starts_with(
      "練馬 さくらさんが11月26日 18:31に光が丘第一学童クラブを退館しました。\n"));
  CHECK(m.body.find("本日15:02の来館のお知らせの後") != std::string::npos);
  CHECK(m.body.find("本日は来館時のカードのタッチ") == std::string::npos);
  n.arrival_at.reset();
  auto none = ComposeNotice(t, n, "練馬 さくら", "光が丘第一学童クラブ", kTokyo).value();
  CHECK(none.body.find("本日は来館時のカードのタッチ") != std::string::npos);
}

TEST_CASE("a correction says 先ほど only within the hour") {
  TemplateSet t = TemplateSet::Defaults();
  Notice n;
  n.kind = NoticeKind::kCorrection;
  n.at = At("2026-11-26T08:40:00Z");          // 17:40 JST
  n.arrival_at = At("2026-11-26T07:45:00Z");  // 16:45: 55 minutes before
  auto soon = ComposeNotice(t, n, "練馬 さくら", "光が丘第一学童クラブ", kTokyo).value();
  CHECK(soon.body.find("先ほど16:45に「退館」としてお知らせしたタッチ") != std::string::npos);
  n.at = At("2026-11-26T09:50:00Z");  // 18:50: two hours later
  auto later = ComposeNotice(t, n, "練馬 さくら", "光が丘第一学童クラブ", kTokyo).value();
  CHECK(later.body.find("先ほど") == std::string::npos);
  CHECK(later.body.find("本日16:45に「退館」としてお知らせしたタッチ") != std::string::npos);
}

TEST_CASE("every mail's footer gives the call centre's phone number when one is set") {
  TemplateSet t = TemplateSet::Defaults();
  Notice n;
  n.kind = NoticeKind::kArrival;
  n.at = At("2026-11-26T06:02:10Z");
  auto without = ComposeNotice(t, n, "練馬 さくら", "光が丘第一学童クラブ", kTokyo).value();
  CHECK(without.body.find("お問い合わせはコールセンターまでお願いします。") != std::string::npos);
  t.SetCallcenterPhone("03-1234-5678");
  auto with = ComposeNotice(t, n, "練馬 さくら", "光が丘第一学童クラブ", kTokyo).value();
  CHECK(with.body.find("お問い合わせはコールセンター（電話 03-1234-5678）までお願いします。") !=
        std::string::npos);
  auto v = ComposeVerification(t, "123456", "https://kids.example.jp/verify?token=ab",
                               At("2026-11-27T06:02:10Z"), kTokyo)
               .value();
  CHECK(v.body.find("コールセンター（電話 03-1234-5678）にお電話で確認される場合") !=
        std::string::npos);
  CHECK(ComposeTestMail(t, At("2026-12-01T01:00:00Z"), kTokyo).value().body.find("03-1234-5678") !=
        std::string::npos);
}

TEST_CASE("late notices say so and show the real tap time") {
  Notice n;
  n.kind = NoticeKind::kArrival;
  n.at = At("2026-11-26T05:59:00Z");  // 14:59 JST
  n.late = true;
  auto text =
      ComposeNotice(TemplateSet::Defaults(), n, "練馬 さくら", "光が丘第一学童クラブ", kTokyo)
          .value();
  CHECK(text.subject == "【キッズ安心メール】来館のお知らせ（遅延）");
  CHECK(text.body.find("遅れて送信") != std::string::npos);
  CHECK(text.body.find("11月26日 14:59") != std::string::npos);
  CHECK(text.body.find("来館しました") != std::string::npos);
}

TEST_CASE("verification and test mails") {
  TemplateSet t = TemplateSet::Defaults();
  auto v = ComposeVerification(t, "482913", "https://kids.example.jp/verify?token=abc",
                               At("2026-11-27T06:00:00Z"), kTokyo)
               .value();
  CHECK(v.body.find("482913") != std::string::npos);
  CHECK(v.body.find("https://kids.example.jp/verify?token=abc") != std::string::npos);
  CHECK(v.body.find("11月27日 15:00") != std::string::npos);
  auto test = ComposeTestMail(t, At("2026-12-01T01:00:00Z"), kTokyo).value();
  CHECK(test.subject.find("テスト") != std::string::npos);
  CHECK(test.body.find("12月1日 10:00") != std::string::npos);
}

TEST_CASE("a not-arrived mail names the child, the facility and the time expected by") {
  TemplateSet t = TemplateSet::Defaults();
  t.SetCallcenterPhone("03-1234-5678");
  auto m = ComposeNotArrived(t, At("2026-11-26T07:00:00Z"), "練馬 さくら", "光が丘第一学童クラブ",
                             kTokyo)
               .value();
  CHECK(m.subject == "【キッズ安心メール】来館の記録がありません");
  CHECK(m.body.find("練馬 さくらさんは本日（11月26日）光が丘第一学童クラブに来館の予定ですが、"
                    "16:00までに来館の記録がありません。") != std::string::npos);
  CHECK(m.body.find("コールセンター（電話 03-1234-5678）") != std::string::npos);
  CHECK_FALSE(
      ComposeNotArrived(t, At("2026-11-26T07:00:00Z"), "", "光が丘第一学童クラブ", kTokyo).ok());
  // The ward's own wording, with the notice placeholders only.
  REQUIRE(
      t.Override(TemplateKind::kNotArrived, "Subject: 未着\n\n{child} {time} {facility}\n").ok());
  CHECK(ComposeNotArrived(t, At("2026-11-26T07:00:00Z"), "さくら", "光が丘", kTokyo).value().body ==
        "さくら 16:00 光が丘\n");
  CHECK_FALSE(t.Override(TemplateKind::kNotArrived, "Subject: x\n\n{code}\n").ok());
}

TEST_CASE("the composer refuses every name the shared name rule refuses") {
  Notice n;
  n.at = At("2026-11-26T06:02:10Z");
  const TemplateSet t = TemplateSet::Defaults();
  std::string long_name;
  for (int i = 0; i < 101; ++i) long_name += "あ";
  const std::vector<std::string> bad = {
      "evil\r\nBcc: x@y.jp",
      "f\n",
      "",
      "\xff",
      "a\tb",
      "a\x1b[31m",
      "a\xc2\x85",
      std::string(100000, 'x'),
      long_name,
      "a\xe2\x80\xa8"
      "b",
      "a\xe2\x80\xa9"
      "b",
      "   ",
      "\xe3\x80\x80",
      "a\x7f",
  };
  for (const std::string& name : bad) {
    INFO(name.substr(0, 40));
    REQUIRE_FALSE(CheckName("child name", name).ok());
    auto child = ComposeNotice(t, n, name, "光が丘第一学童クラブ", kTokyo);
    REQUIRE_FALSE(child.ok());
    CHECK_THAT(child.status().message(), Catch::Matchers::StartsWith("child name: "));
    auto facility = ComposeNotice(t, n, "練馬 さくら", name, kTokyo);
    REQUIRE_FALSE(facility.ok());
    CHECK_THAT(facility.status().message(), Catch::Matchers::StartsWith("facility name: "));
  }
  for (const char* good : {"練馬 さくら", "光が丘第一学童クラブ", "ｱｲｳ"}) {
    INFO(good);
    CHECK(ComposeNotice(t, n, good, good, kTokyo).ok());
  }
}

TEST_CASE("template overrides are checked when loaded") {
  TemplateSet t = TemplateSet::Defaults();
  CHECK(t.Override(TemplateKind::kArrival,
                   "Subject: Arrived {child}\n\n{child} arrived at {time} ({{ok}}).\n")
            .ok());
  Notice n;
  n.at = At("2026-11-26T06:02:10Z");
  auto text = ComposeNotice(t, n, "Sakura", "Club", kTokyo).value();
  CHECK(text.subject == "Arrived Sakura");
  CHECK(text.body == "Sakura arrived at 15:02 ({ok}).\n");

  Status s = t.Override(TemplateKind::kArrival, "Subject: x\n\n{code}\n");
  CHECK(s.code() == Status::Code::kInvalidArgument);
  CHECK(s.message().find("template arrival") != std::string::npos);
  CHECK(s.message().find("{code}") != std::string::npos);
  CHECK(!t.Override(TemplateKind::kArrival, "no subject line\n\nbody\n").ok());
  CHECK(!t.Override(TemplateKind::kArrival, "Subject: \n\nbody\n").ok());
  CHECK(!t.Override(TemplateKind::kArrival, "Subject: x\nbody\n").ok());
  CHECK(!t.Override(TemplateKind::kArrival, "Subject: x\n\n{child\n").ok());
  CHECK(!t.Override(TemplateKind::kArrival, "Subject: x\n\nchild}\n").ok());
  CHECK(!t.Override(TemplateKind::kArrival, "Subject: x\n\n\xE3\x81\n").ok());  // truncated UTF-8
  CHECK(!t.Override(TemplateKind::kArrival, "Subject: x\n\n\x01\n").ok());
  // A subject that no mail could carry is refused here, not at send time (fuzz_mime found a TAB
  // in the subject passing the load and failing every arrival mail after).
  CHECK(!t.Override(TemplateKind::kArrival, "Subject: a\tb {child}\n\nbody\n").ok());
  CHECK(!t.Override(TemplateKind::kArrival, "Subject: a\xC2\x85{child}\n\nbody\n").ok());
  CHECK(!t.Override(TemplateKind::kLate, "Subject: {subject} {body}\n\n{body}\n").ok());
  CHECK(t.Override(TemplateKind::kLate, "Subject: {subject} (late)\n\n{body}\n").ok());
  CHECK(t.Override(TemplateKind::kVerification, "Subject: code\r\n\r\n{code} {link} {expires}\r\n")
            .ok());
  // A failed override leaves the previous template in place.
  CHECK(ComposeNotice(t, n, "Sakura", "Club", kTokyo)->subject == "Arrived Sakura");
}

TEST_CASE("every default template parses") {
  for (TemplateKind k : kAllTemplateKinds) {
    INFO(TemplateKindName(k));
    CHECK(MailTemplate::Parse(k, DefaultTemplateText(k)).ok());
  }
}

TEST_CASE("the composer takes exactly the addresses the shared validator takes") {
  // The addresses of issue 9 that registration accepted and sending refused, and others.
  const std::vector<std::string> addresses = {
      "parent@example.com",
      "a.b+c@mail.example.co.jp",
      "taro..yamada.@docomo.ne.jp",  // legacy carrier address
      "a@x_y.jp",
      "a@-x.jp",
      "a[b]@x.jp",
      std::string(65, 'a') + "@example.com",
      std::string(64, 'a') + "@example.com",
      ".a@example.jp",
      "a@[192.0.2.1]",
      "",
      "parent",
      "a@b@example.com",
      "parent@localhost",
      "par ent@example.com",
      "parent@example.com\r\nBcc: x@evil.jp",
      "<parent@example.com>",
      "さくら@example.jp",
      "p@example..com",
      "...@example.com",
  };
  for (const std::string& a : addresses) {
    INFO(a);
    bool valid = CheckEmailAddress(a).ok();
    MailMessage m = SampleMessage();
    m.to = a;
    CHECK(RenderMessage(m, kTokyo).ok() == valid);
    m = SampleMessage();
    m.reply_to = a;
    CHECK(RenderMessage(m, kTokyo).ok() == valid);
    m = SampleMessage();
    m.from_address = a;
    CHECK(RenderMessage(m, kTokyo).ok() == valid);
  }
  CHECK_FALSE(CheckEmailAddress("a@x_y.jp").ok());
  CHECK(CheckEmailAddress("parent@example.com").ok());
}

TEST_CASE("header text validation rejects line breaks and controls") {
  CHECK(ValidateHeaderText("subject", "【キッズ安心メール】").ok());
  CHECK(!ValidateHeaderText("subject", "a\rb").ok());
  CHECK(!ValidateHeaderText("subject", "a\nb").ok());
  CHECK(!ValidateHeaderText("subject", "a\tb").ok());
  CHECK(!ValidateHeaderText("subject", "a\x7f").ok());
  CHECK(!ValidateHeaderText("subject", "a\xc2\x85").ok());     // U+0085 NEL
  CHECK(!ValidateHeaderText("subject", "\xc0\xaf").ok());      // overlong
  CHECK(!ValidateHeaderText("subject", "\xed\xa0\x80").ok());  // surrogate
}

TEST_CASE("base64 round trip") {
  for (std::string s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", "練馬 さくら",
                                                std::string("\0\xff\x10", 3)}) {
    CHECK(Base64Decode(Base64Encode(s)).value() == s);
  }
  CHECK(Base64Encode("abc") == "YWJj");
  CHECK(!Base64Decode("YW*j").ok());
}

TEST_CASE("RFC 5322 date") {
  CHECK(FormatRfc5322Date(At("2026-11-26T06:02:03Z"), kTokyo) == "Thu, 26 Nov 2026 15:02:03 +0900");
  CHECK(FormatRfc5322Date(At("2026-01-04T23:59:59Z"), TimeZone()) ==
        "Sun, 04 Jan 2026 23:59:59 +0000");
  CHECK(FormatRfc5322Date(At("2026-07-01T12:00:00Z"), TimeZone::Fixed("X", -(3 * 3600 + 1800))) ==
        "Wed, 01 Jul 2026 08:30:00 -0330");
}

TEST_CASE("message ids") {
  CHECK(MakeMessageId("42.1764136920000", "kids.example.jp").value() ==
        "<42.1764136920000@kids.example.jp>");
  CHECK(!MakeMessageId("a b", "kids.example.jp").ok());
  CHECK(!MakeMessageId("a", "kids").ok());
  CHECK(!MakeMessageId("a>", "kids.example.jp").ok());
  CHECK(!MakeMessageId("", "kids.example.jp").ok());
}

TEST_CASE("encoded words respect 75 characters and character boundaries") {
  std::string long_subject;
  for (int i = 0; i < 30; ++i) long_subject += "来館のお知らせ";
  for (std::size_t max : {75u, 66u, 30u}) {
    auto words = EncodeWords(long_subject, Charset::kUtf8, max).value();
    std::string joined;
    for (const auto& w : words) {
      CHECK(w.size() <= max);
      std::string raw = Base64Decode(w.substr(10, w.size() - 12)).value();
      CHECK(IsValidUtf8(raw));  // no character split between words
      joined += raw;
    }
    CHECK(joined == long_subject);
  }
  auto jis = EncodeWords(long_subject, Charset::kIso2022Jp, 75).value();
  std::string joined;
  for (const auto& w : jis) {
    CHECK(w.size() <= 75);
    CHECK(w.starts_with("=?ISO-2022-JP?B?"));
    std::string raw = Base64Decode(w.substr(16, w.size() - 18)).value();
    CHECK((raw.size() < 3 || raw.substr(raw.size() - 3) == "\x1b(B"));  // back to ASCII
    joined += FromIso2022Jp(raw);
  }
  CHECK(joined == long_subject);
}

TEST_CASE("UTF-8 message: headers, base64 body, decode back") {
  MailMessage m = SampleMessage();
  m.reply_to = "callcenter@kids-anshin.example.jp";
  std::string msg = RenderMessage(m, kTokyo).value();
  CheckLineLengths(msg);
  Parsed p = Split(msg);
  CHECK(p.headers["Date"] == "Thu, 26 Nov 2026 15:02:00 +0900");
  CHECK(p.headers["Message-ID"] == "<42.1764136920000@kids-anshin.example.jp>");
  CHECK(p.headers["MIME-Version"] == "1.0");
  CHECK(p.headers["Content-Type"] == "text/plain; charset=UTF-8");
  CHECK(p.headers["Content-Transfer-Encoding"] == "base64");
  CHECK(p.headers["To"] == "parent@example.com");
  CHECK(p.headers["Reply-To"] == "callcenter@kids-anshin.example.jp");
  CHECK(DecodeWords(p.headers["Subject"]) == m.subject);
  std::string from = p.headers["From"];
  CHECK(from.ends_with(" <noreply@kids-anshin.example.jp>"));
  CHECK(DecodeWords(from.substr(0, from.rfind(' '))) == m.from_name);
  std::string body = Base64Decode(p.body).value();
  CHECK(body == "練馬 さくら さんが 11月26日 15:02 に 光が丘第一学童クラブ に来館しました。\r\n");
  for (std::size_t i = 0; i + 2 < p.body.size();) {
    std::size_t nl = p.body.find("\r\n", i);
    CHECK(nl - i <= 76);
    i = nl + 2;
  }
}

TEST_CASE("long subjects and bodies are folded") {
  MailMessage m = SampleMessage();
  m.subject.clear();
  for (int i = 0; i < 8; ++i) m.subject += "【キッズ安心メール】";
  for (int i = 0; i < 50; ++i) m.body += "とても長い本文の行です。";
  std::string msg = RenderMessage(m, kTokyo).value();
  CheckLineLengths(msg);
  Parsed p = Split(msg);
  CHECK(DecodeWords(p.headers["Subject"]) == m.subject);
  int subject_lines = 0;
  bool in_subject = false;
  for (const auto& line : p.header_lines) {
    if (line.starts_with("Subject:"))
      in_subject = true, ++subject_lines;
    else if (in_subject && line.starts_with(" "))
      ++subject_lines;
    else
      in_subject = false;
  }
  CHECK(subject_lines > 2);
  std::string expected = m.body;
  expected.replace(expected.find('\n'), 1, "\r\n");
  CHECK(Base64Decode(p.body).value() == expected + "\r\n");  // the last line gets its CRLF
}

TEST_CASE("ASCII subjects are written as they are") {
  MailMessage m = SampleMessage();
  m.subject = "Test mail";
  Parsed p = Split(RenderMessage(m, kTokyo).value());
  CHECK(p.headers["Subject"] == "Test mail");
}

TEST_CASE("ISO-2022-JP message decodes back") {
  MailMessage m = SampleMessage();
  m.charset = Charset::kIso2022Jp;
  m.body =
      "練馬 さくら さんが 11月26日 15:02 に 光が丘第一学童クラブ "
      "に来館しました。とても長い行が続くと折り返されます。\n\n--\n署名\n";
  std::string msg = RenderMessage(m, kTokyo).value();
  CheckLineLengths(msg);
  Parsed p = Split(msg);
  CHECK(p.headers["Content-Type"] == "text/plain; charset=ISO-2022-JP");
  CHECK(p.headers["Content-Transfer-Encoding"] == "7bit");
  CHECK(p.headers["Subject"].starts_with("=?ISO-2022-JP?B?"));
  CHECK(DecodeWords(p.headers["Subject"]) == m.subject);
  std::string from = p.headers["From"];
  CHECK(DecodeWords(from.substr(0, from.rfind(' '))) == m.from_name);
  // Joining the wrapped lines of the first paragraph gives the original line back.
  std::string decoded;
  std::size_t pos = 0;
  std::vector<std::string> lines;
  while (pos < p.body.size()) {
    std::size_t nl = p.body.find("\r\n", pos);
    lines.push_back(FromIso2022Jp(p.body.substr(pos, nl - pos)));
    pos = nl + 2;
  }
  REQUIRE(lines.size() >= 5);
  std::string first;
  for (std::size_t i = 0; i + 3 < lines.size(); ++i) first += lines[i];
  CHECK(first ==
        "練馬 さくら さんが 11月26日 15:02 に 光が丘第一学童クラブ "
        "に来館しました。とても長い行が続くと折り返されます。");
  CHECK(lines[lines.size() - 3].empty());
  CHECK(lines[lines.size() - 2] == "--");
  CHECK(lines.back() == "署名");
}

TEST_CASE("ISO-2022-JP refuses characters it cannot carry") {
  MailMessage m = SampleMessage();
  m.charset = Charset::kIso2022Jp;
  m.subject = "①のお知らせ";  // NEC special character, not in JIS X 0208
  auto r = RenderMessage(m, kTokyo);
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("ISO-2022-JP") != std::string::npos);
  m = SampleMessage();
  m.charset = Charset::kIso2022Jp;
  m.body = "ｻｸﾗ さん\n";  // half-width katakana
  CHECK(!RenderMessage(m, kTokyo).ok());
  CHECK(ToIso2022Jp("さくら").ok());
  CHECK(!ToIso2022Jp("😀").ok());
}

TEST_CASE("header injection is impossible") {
  MailMessage m = SampleMessage();
  m.subject = "hello\r\nBcc: victim@example.com";
  CHECK(!RenderMessage(m, kTokyo).ok());
  m = SampleMessage();
  m.to = "parent@example.com\r\nBcc: victim@example.com";
  CHECK(!RenderMessage(m, kTokyo).ok());
  m = SampleMessage();
  m.from_name = "x\n";
  CHECK(!RenderMessage(m, kTokyo).ok());
  m = SampleMessage();
  m.reply_to = "a@b.jp\r\n";
  CHECK(!RenderMessage(m, kTokyo).ok());
  m = SampleMessage();
  m.message_id = "<a@b.jp>\r\nX: y";
  CHECK(!RenderMessage(m, kTokyo).ok());
  m = SampleMessage();
  m.body = "ok\x1b$B";  // raw escape sequences in a body are not allowed either
  CHECK(!RenderMessage(m, kTokyo).ok());
}

TEST_CASE("lines starting with a dot are left for the transport to stuff") {
  MailMessage m = SampleMessage();
  m.charset = Charset::kIso2022Jp;
  m.body = ".\n.hidden\n";
  Parsed p = Split(RenderMessage(m, kTokyo).value());
  CHECK(p.body == ".\r\n.hidden\r\n");
}

}  // namespace
}  // namespace anshin::mail

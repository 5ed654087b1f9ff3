// fuzz_mime: mail composition from what people type in and operators configure: child and
// facility names, the sender's display name and addresses, template overrides (a kind's
// "Subject: ..." text), verification codes and links, times and the zone, in both charsets.
// The fuzzer's bytes choose each of them (FuzzedDataProvider); ComposeNotice /
// ComposeVerification / ComposeTestMail then RenderMessage build the bytes the relay gets.
//
// Invariants:
//   - a template set that parsed composes every mail whose names pass CheckName (the templates'
//     contract: a bad override is refused at start-up, never at send time);
//   - the rendered message is 7-bit, has no bare CR or LF (every line ends in CRLF) and no line
//     longer than 998 octets (RFC 5322 section 2.1.1);
//   - its header holds exactly the headers the composer writes, each once, folded lines
//     starting with a space: no value can inject a header or end the header early;
//   - the Subject's encoded-words decode to the composed subject and the body decodes to the
//     composed body (base64 for UTF-8, ISO-2022-JP for the old handsets).
#include <fuzzer/FuzzedDataProvider.h>
#include <iconv.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/mail/mime.hpp"
#include "common/mail/templates.hpp"
#include "common/validate.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace anshin::mail {
namespace {

constexpr std::int64_t kYear2200Millis = 7'258'118'400'000;

// ISO-2022-JP -> UTF-8 with glibc's iconv (the reverse of the composer's conversion).
std::optional<std::string> FromIso2022Jp(std::string_view jis) {
  iconv_t cd = iconv_open("UTF-8", "ISO-2022-JP");
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  std::string out(jis.size() * 3 + 16, '\0');
  char* in_ptr = const_cast<char*>(jis.data());
  std::size_t in_left = jis.size();
  char* out_ptr = out.data();
  std::size_t out_left = out.size();
  const bool ok = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left) != static_cast<std::size_t>(-1);
  iconv_close(cd);
  if (!ok) return std::nullopt;
  out.resize(out.size() - out_left);
  return out;
}

// The text of "=?charset?B?...?=" words separated by spaces, or the plain value (short
// printable ASCII is sent as it is).
std::string DecodeHeaderValue(std::string_view value, std::string_view sent, Charset charset) {
  bool plain = 9 + sent.size() <= 77;
  for (char c : sent) plain = plain && c >= 0x20 && c <= 0x7E;
  if (plain) return std::string(value);
  const std::string prefix = charset == Charset::kUtf8 ? "=?UTF-8?B?" : "=?ISO-2022-JP?B?";
  std::string text;
  std::size_t i = 0;
  while (i < value.size()) {
    std::size_t end = value.find(' ', i);
    if (end == std::string_view::npos) end = value.size();
    std::string_view word = value.substr(i, end - i);
    i = end + 1;
    if (word.empty()) continue;
    FUZZ_CHECK(word.starts_with(prefix) && word.ends_with("?=") && word.size() <= 75,
               "not an encoded-word: " + std::string(word));
    Result<std::string> raw =
        Base64Decode(word.substr(prefix.size(), word.size() - prefix.size() - 2));
    FUZZ_CHECK(raw.ok(), "bad base64 in " + std::string(word));
    if (charset == Charset::kUtf8) {
      text += *raw;
    } else {
      std::optional<std::string> utf8 = FromIso2022Jp(*raw);
      FUZZ_CHECK(utf8.has_value(), "bad ISO-2022-JP in " + std::string(word));
      text += *utf8;
    }
  }
  return text;
}

// The body's lines as the composer reads them ("\n" or "\r\n" ends; no empty last line).
std::vector<std::string> BodyLines(std::string_view body) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < body.size()) {
    std::size_t nl = body.find('\n', start);
    std::size_t end = nl == std::string_view::npos ? body.size() : nl;
    std::string_view line = body.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return lines;
}

void CheckMessage(const std::string& msg, const MailMessage& m) {
  for (std::size_t i = 0; i < msg.size(); ++i) {
    const auto c = static_cast<unsigned char>(msg[i]);
    FUZZ_CHECK(c != 0 && c < 0x80, "a byte that is not 7-bit at " + std::to_string(i));
    if (c == '\r')
      FUZZ_CHECK(i + 1 < msg.size() && msg[i + 1] == '\n', "bare CR at " + std::to_string(i));
    if (c == '\n') FUZZ_CHECK(i > 0 && msg[i - 1] == '\r', "bare LF at " + std::to_string(i));
  }
  FUZZ_CHECK(msg.ends_with("\r\n"), "the message does not end with CRLF");
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start < msg.size();) {
    std::size_t end = msg.find("\r\n", start);
    lines.push_back(std::string_view(msg).substr(start, end - start));
    FUZZ_CHECK(end - start <= 998, "a line of " + std::to_string(end - start) + " octets");
    start = end + 2;
  }
  // Header lines up to the first empty line, unfolded.
  std::map<std::string, std::string> headers;
  std::string last;
  std::size_t n = 0;
  for (; n < lines.size() && !lines[n].empty(); ++n) {
    std::string_view line = lines[n];
    if (line.front() == ' ') {
      FUZZ_CHECK(!last.empty(), "the header starts with a folded line");
      headers[last] += std::string(line);
      continue;
    }
    const std::size_t colon = line.find(':');
    FUZZ_CHECK(colon != std::string_view::npos,
               "a header line without a name: " + std::string(line));
    last = std::string(line.substr(0, colon));
    FUZZ_CHECK(headers.count(last) == 0, "header " + last + " twice");
    headers[last] = std::string(line.substr(colon + 1));
  }
  FUZZ_CHECK(n < lines.size(), "no empty line after the header");
  std::vector<std::string> want = {
      "Date",       "From",         "To",           "Subject",
      "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"};
  if (m.reply_to) want.push_back("Reply-To");
  FUZZ_CHECK(headers.size() == want.size(), "unexpected headers");
  for (const std::string& name : want) FUZZ_CHECK(headers.count(name) == 1, "no " + name);
  FUZZ_CHECK(headers["To"] == " " + m.to, "To: " + headers["To"]);

  std::string_view subject = headers["Subject"];
  FUZZ_CHECK(subject.starts_with(" "), "Subject without a space");
  subject.remove_prefix(1);
  FUZZ_CHECK(DecodeHeaderValue(subject, m.subject, m.charset) == m.subject,
             "Subject reads back otherwise");

  std::string body_text;  // the body as transmitted, line ends removed
  for (std::size_t i = n + 1; i < lines.size(); ++i) body_text += lines[i];
  const std::vector<std::string> want_lines = BodyLines(m.body);
  if (m.charset == Charset::kUtf8) {
    Result<std::string> decoded = Base64Decode(body_text);
    FUZZ_CHECK(decoded.ok(), "the body is not base64");
    std::string want_body;
    for (const std::string& l : want_lines) want_body += l + "\r\n";
    FUZZ_CHECK(*decoded == want_body, "the body reads back otherwise");
  } else {
    std::optional<std::string> decoded = FromIso2022Jp(body_text);
    FUZZ_CHECK(decoded.has_value(), "the body is not ISO-2022-JP");
    std::string want_body;
    for (const std::string& l : want_lines) want_body += l;
    FUZZ_CHECK(*decoded == want_body, "the body reads back otherwise");
  }
}

TemplateKind KindOf(int what) {
  static constexpr TemplateKind kKinds[] = {
      TemplateKind::kArrival,    TemplateKind::kDeparture,    TemplateKind::kInferredDeparture,
      TemplateKind::kCorrection, TemplateKind::kVerification, TemplateKind::kTest};
  return kKinds[what];
}

void Run(FuzzedDataProvider& in) {
  const int what = in.ConsumeIntegralInRange(0, 5);  // 0..3 notice kinds, 4 verification, 5 test
  const bool late = in.ConsumeBool();
  const Charset charset = in.ConsumeBool() ? Charset::kIso2022Jp : Charset::kUtf8;
  const TimePoint at = FromUnixMillis(in.ConsumeIntegralInRange<std::int64_t>(0, kYear2200Millis));
  const TimeZone zone = TimeZone::Fixed("fuzz", in.ConsumeIntegralInRange(-14 * 3600, 14 * 3600));
  const std::string child = in.ConsumeRandomLengthString(420);
  const std::string facility = in.ConsumeRandomLengthString(420);

  TemplateSet templates = TemplateSet::Defaults();
  if (in.ConsumeBool()) (void)templates.Override(KindOf(what), in.ConsumeRandomLengthString(600));
  if (late && in.ConsumeBool()) {
    (void)templates.Override(TemplateKind::kLate, in.ConsumeRandomLengthString(600));
  }

  Result<MailText> text = Status::Internal("not composed");
  if (what <= 3) {
    Notice notice;
    notice.kind = static_cast<NoticeKind>(what);
    notice.at = at;
    notice.late = late;
    if (notice.kind == NoticeKind::kCorrection) notice.arrival_at = at - Minutes(5);
    text = ComposeNotice(templates, notice, child, facility, zone);
    const bool names_ok = CheckName("child", child).ok() && CheckName("facility", facility).ok();
    FUZZ_CHECK(text.ok() == names_ok, "valid names but " + text.status().ToString());
  } else if (what == 4) {
    // The code and link as the verification service makes them; the public URL is an
    // operator's setting, fuzzed here through the child-name bytes.
    text = ComposeVerification(templates, "123456", child + "/verify?token=0123", at, zone);
    FUZZ_CHECK(text.ok() == ValidateHeaderText("link", child + "/verify?token=0123").ok(),
               "a valid link but " + text.status().ToString());
  } else {
    text = ComposeTestMail(templates, at, zone);
    FUZZ_CHECK(text.ok(), "the test mail failed: " + text.status().ToString());
  }
  if (!text.ok()) return;

  MailMessage m;
  m.from_address =
      in.ConsumeBool() ? "noreply@kids-anshin.example.jp" : in.ConsumeRandomLengthString(80);
  m.from_name = in.ConsumeBool() ? "キッズ安心メール" : in.ConsumeRandomLengthString(200);
  if (in.ConsumeBool()) m.reply_to = in.ConsumeRandomLengthString(80);
  m.to = in.ConsumeBool() ? "guardian@example.jp" : in.ConsumeRandomLengthString(300);
  Result<std::string> id =
      MakeMessageId(in.ConsumeRandomLengthString(40),
                    in.ConsumeBool() ? "kids-anshin.example.jp" : in.ConsumeRandomLengthString(80));
  m.message_id = id.ok() ? *id : "<o1.0123@kids-anshin.example.jp>";
  m.subject = text->subject;
  m.body = text->body;
  m.date = at;
  m.charset = charset;
  Result<std::string> rendered = RenderMessage(m, zone);
  if (!rendered.ok()) return;
  CheckMessage(*rendered, m);
}

}  // namespace
}  // namespace anshin::mail

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  anshin::mail::Run(in);
  return 0;
}

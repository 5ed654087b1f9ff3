#include "common/mail/templates.hpp"

#include <algorithm>
#include <cstdio>

#include "common/mail/mime.hpp"
#include "common/validate.hpp"

namespace anshin::mail {
namespace {

// Japanese is written without spaces before particles (「光が丘第一学童クラブを退館しました」);
// the only space is between the date and the time.
constexpr std::string_view kFooter =
    "\n"
    "--\n"
    "キッズ安心メール（このメールは送信専用です。返信はできません）\n"
    "お問い合わせは{callcenter}までお願いします。\n";

const std::string kArrivalText = std::string(
                                     "Subject: 【キッズ安心メール】来館のお知らせ\n"
                                     "\n"
                                     "{child}さんが{date} {time}に{facility}に来館しました。\n") +
                                 std::string(kFooter);

const std::string kDepartureText = std::string(
                                       "Subject: 【キッズ安心メール】退館のお知らせ\n"
                                       "\n"
                                       "{child}さんが{date} {time}に{facility}を退館しました。\n") +
                                   std::string(kFooter);

const std::string kInferredDepartureText =
    std::string(
        "Subject: 【キッズ安心メール】退館のお知らせ（来館の記録なし）\n"
        "\n"
        "{child}さんが{date} {time}に{facility}を退館しました。\n"
        "\n"
        "本日は来館時のカードのタッチ（かざし忘れ）が確認できなかったため、"
        "来館のお知らせは送信されていません。\n") +
    std::string(kFooter);

const std::string kInferredDepartureAfterArrivalText =
    std::string(
        "Subject: 【キッズ安心メール】退館のお知らせ（再来館の記録なし）\n"
        "\n"
        "{child}さんが{date} {time}に{facility}を退館しました。\n"
        "\n"
        "本日{arrival_time}の来館のお知らせの後、いったん退館して再び来館したときの"
        "カードのタッチ（かざし忘れ）が確認できなかったため、その来館のお知らせは"
        "送信されていません。\n") +
    std::string(kFooter);

const std::string kCorrectionText =
    std::string(
        "Subject: 【キッズ安心メール】退館のお知らせ（訂正）\n"
        "\n"
        "{child}さんが{date} {time}に{facility}を退館しました。\n"
        "\n"
        "{earlier}{arrival_time}に「退館」としてお知らせしたタッチは、実際には来館の記録でした。"
        "お知らせを訂正いたします。\n") +
    std::string(kFooter);

constexpr std::string_view kLateText =
    "Subject: {subject}（遅延）\n"
    "\n"
    "※通信の遅れにより、このお知らせは遅れて送信されています。"
    "実際のタッチの時刻は{date} {time}です。\n"
    "\n"
    "{body}";

const std::string kVerificationText =
    std::string(
        "Subject: 【キッズ安心メール】メールアドレスの確認\n"
        "\n"
        "キッズ安心メールへのご登録ありがとうございます。\n"
        "次のリンクを開いて、このメールアドレスを確認してください。\n"
        "\n"
        "{link}\n"
        "\n"
        "{callcenter}にお電話で確認される場合は、次の確認コードをお伝えください。\n"
        "確認コード: {code}\n"
        "\n"
        "有効期限: {expires}\n"
        "お心当たりのない場合は、このメールを破棄してください。\n") +
    std::string(kFooter);

const std::string kTestText =
    std::string(
        "Subject: 【キッズ安心メール】テスト送信のお知らせ\n"
        "\n"
        "このメールはキッズ安心メールの月例テスト送信です（{date} {time}送信）。\n"
        "このメールが届いていれば、来館・退館のお知らせも受け取れます。\n"
        "返信などの操作は必要ありません。\n") +
    std::string(kFooter);

// The ward enables it per facility; the guardian may already know (a phone call to the
// facility is not recorded here), so it asks, and says what to do if the child is absent.
const std::string kNotArrivedText =
    std::string(
        "Subject: 【キッズ安心メール】来館の記録がありません\n"
        "\n"
        "{child}さんは本日（{date}）{facility}に来館の予定ですが、"
        "{time}までに来館の記録がありません。\n"
        "\n"
        "お休みや遅れる予定の場合は、{facility}または{callcenter}にご連絡ください。"
        "すでにご連絡いただいている場合は、このメールは破棄してください。\n") +
    std::string(kFooter);

// A correction within this long of the tap it corrects says 「先ほど」.
constexpr auto kRecent = std::chrono::hours(1);

bool IsNameChar(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }

Status CheckTemplateText(std::string_view text) {
  if (!IsValidUtf8(text)) return Status::InvalidArgument("not valid UTF-8");
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n' && c != '\r' && c != '\t') || u == 0x7F) {
      return Status::InvalidArgument("contains a control character");
    }
  }
  return Status::Ok();
}

// A value placed into a template that is not a name (verification code, link).
Status CheckValue(std::string_view what, std::string_view value) {
  if (value.empty()) return Status::InvalidArgument(std::string(what) + " is empty");
  return ValidateHeaderText(what, value);
}

}  // namespace

std::string_view TemplateKindName(TemplateKind kind) {
  switch (kind) {
    case TemplateKind::kArrival:
      return "arrival";
    case TemplateKind::kDeparture:
      return "departure";
    case TemplateKind::kInferredDeparture:
      return "inferred_departure";
    case TemplateKind::kInferredDepartureAfterArrival:
      return "inferred_departure_after_arrival";
    case TemplateKind::kCorrection:
      return "correction";
    case TemplateKind::kLate:
      return "late";
    case TemplateKind::kVerification:
      return "verification";
    case TemplateKind::kTest:
      return "test";
    case TemplateKind::kNotArrived:
      return "not_arrived";
  }
  return "unknown";
}

const std::vector<std::string_view>& AllowedPlaceholders(TemplateKind kind) {
  static const std::vector<std::string_view> kNotice = {"child", "facility", "date", "time",
                                                        "callcenter"};
  static const std::vector<std::string_view> kAfterArrival = {
      "child", "facility", "date", "time", "arrival_time", "callcenter"};
  static const std::vector<std::string_view> kCorrection = {
      "child", "facility", "date", "time", "arrival_time", "earlier", "callcenter"};
  static const std::vector<std::string_view> kLate = {"subject", "body", "child",     "facility",
                                                      "date",    "time", "callcenter"};
  static const std::vector<std::string_view> kVerification = {"code", "link", "expires",
                                                              "callcenter"};
  static const std::vector<std::string_view> kTest = {"date", "time", "callcenter"};
  switch (kind) {
    case TemplateKind::kArrival:
    case TemplateKind::kDeparture:
    case TemplateKind::kInferredDeparture:
    case TemplateKind::kNotArrived:
      return kNotice;
    case TemplateKind::kInferredDepartureAfterArrival:
      return kAfterArrival;
    case TemplateKind::kCorrection:
      return kCorrection;
    case TemplateKind::kLate:
      return kLate;
    case TemplateKind::kVerification:
      return kVerification;
    case TemplateKind::kTest:
      return kTest;
  }
  return kNotice;
}

std::string_view DefaultTemplateText(TemplateKind kind) {
  switch (kind) {
    case TemplateKind::kArrival:
      return kArrivalText;
    case TemplateKind::kDeparture:
      return kDepartureText;
    case TemplateKind::kInferredDeparture:
      return kInferredDepartureText;
    case TemplateKind::kInferredDepartureAfterArrival:
      return kInferredDepartureAfterArrivalText;
    case TemplateKind::kCorrection:
      return kCorrectionText;
    case TemplateKind::kLate:
      return kLateText;
    case TemplateKind::kVerification:
      return kVerificationText;
    case TemplateKind::kTest:
      return kTestText;
    case TemplateKind::kNotArrived:
      return kNotArrivedText;
  }
  return kArrivalText;
}

Result<std::vector<MailTemplate::Segment>> MailTemplate::ParseSegments(TemplateKind kind,
                                                                       std::string_view text) {
  const auto& allowed = AllowedPlaceholders(kind);
  std::vector<Segment> segments;
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      ++i;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      literal += '}';
      ++i;
    } else if (c == '{') {
      std::size_t close = text.find('}', i + 1);
      if (close == std::string_view::npos) return Status::InvalidArgument("unclosed '{'");
      std::string_view name = text.substr(i + 1, close - i - 1);
      if (name.empty() || !std::all_of(name.begin(), name.end(), IsNameChar)) {
        return Status::InvalidArgument("bad placeholder {" + std::string(name) +
                                       "} (write {{ for a literal brace)");
      }
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        std::string list;
        for (std::string_view a : allowed)
          list += (list.empty() ? "{" : ", {") + std::string(a) + "}";
        return Status::InvalidArgument("unknown placeholder {" + std::string(name) +
                                       "}; this template accepts " + list);
      }
      if (!literal.empty()) segments.push_back({false, std::move(literal)});
      literal.clear();
      segments.push_back({true, std::string(name)});
      i = close;
    } else if (c == '}') {
      return Status::InvalidArgument("unmatched '}' (write }} for a literal brace)");
    } else if (c != '\r') {
      literal += c;
    }
  }
  if (!literal.empty()) segments.push_back({false, std::move(literal)});
  return segments;
}

Result<MailTemplate> MailTemplate::Parse(TemplateKind kind, std::string_view text) {
  ANSHIN_RETURN_IF_ERROR(CheckTemplateText(text));
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a BOM from a Windows editor
  constexpr std::string_view kSubject = "Subject:";
  if (!text.starts_with(kSubject))
    return Status::InvalidArgument("the first line must be \"Subject: ...\"");
  std::size_t nl = text.find('\n');
  if (nl == std::string_view::npos)
    return Status::InvalidArgument("no empty line after the subject");
  std::string_view subject = text.substr(kSubject.size(), nl - kSubject.size());
  while (!subject.empty() && (subject.front() == ' ' || subject.front() == '\t'))
    subject.remove_prefix(1);
  while (!subject.empty() && (subject.back() == ' ' || subject.back() == '\r'))
    subject.remove_suffix(1);
  if (subject.empty()) return Status::InvalidArgument("the subject is empty");
  std::string_view rest = text.substr(nl + 1);
  if (rest.starts_with("\r\n")) {
    rest.remove_prefix(2);
  } else if (rest.starts_with("\n")) {
    rest.remove_prefix(1);
  } else {
    return Status::InvalidArgument("the subject must be followed by an empty line");
  }
  if (rest.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return Status::InvalidArgument("the body is empty");

  MailTemplate t;
  t.kind_ = kind;
  auto subject_segments = ParseSegments(kind, subject);
  if (!subject_segments.ok()) return subject_segments.status().WithContext("subject");
  // The subject's own text must be a valid header (no TAB or other control character), and the
  // late template's {body} (many lines) cannot go into it: else every mail of the kind would
  // fail at send time, not here.
  for (const Segment& s : *subject_segments) {
    if (s.placeholder && s.text == "body")
      return Status::InvalidArgument("subject: {body} has line breaks and cannot be in a subject");
    if (!s.placeholder) ANSHIN_RETURN_IF_ERROR(ValidateHeaderText("subject", s.text));
  }
  auto body_segments = ParseSegments(kind, rest);
  if (!body_segments.ok()) return body_segments.status().WithContext("body");
  t.subject_ = std::move(subject_segments).value();
  t.body_ = std::move(body_segments).value();
  return t;
}

std::string MailTemplate::Expand(const std::vector<Segment>& segments,
                                 const std::map<std::string, std::string, std::less<>>& values) {
  std::string out;
  for (const Segment& s : segments) {
    if (!s.placeholder) {
      out += s.text;
    } else if (auto it = values.find(s.text); it != values.end()) {
      out += it->second;
    }
  }
  return out;
}

MailText MailTemplate::Render(const std::map<std::string, std::string, std::less<>>& values) const {
  return MailText{Expand(subject_, values), Expand(body_, values)};
}

TemplateSet TemplateSet::Defaults() {
  TemplateSet set;
  for (TemplateKind kind : kAllTemplateKinds) {
    auto t = MailTemplate::Parse(kind, DefaultTemplateText(kind));
    assert(t.ok() && "built-in template must parse");
    set.templates_[static_cast<std::size_t>(kind)] = std::move(t).value();
  }
  return set;
}

Status TemplateSet::Override(TemplateKind kind, std::string_view text) {
  auto t = MailTemplate::Parse(kind, text);
  if (!t.ok()) return t.status().WithContext("template " + std::string(TemplateKindName(kind)));
  templates_[static_cast<std::size_t>(kind)] = std::move(t).value();
  return Status::Ok();
}

namespace {

std::string CallcenterWords(const TemplateSet& templates) {
  if (templates.callcenter_phone().empty()) return "コールセンター";
  return "コールセンター（電話 " + templates.callcenter_phone() + "）";
}

}  // namespace

std::string FormatMailDate(TimePoint t, const TimeZone& zone) {
  LocalDate d = zone.DateOf(t);
  return std::to_string(d.month) + "月" + std::to_string(d.day) + "日";
}

std::string FormatMailTime(TimePoint t, const TimeZone& zone) {
  LocalTime lt = zone.ToLocal(t).time;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", lt.hour() % 100, lt.minute());
  return buf;
}

namespace {

using Values = std::map<std::string, std::string, std::less<>>;

// The placeholders every mail about a child has (kNotice): the names, checked by the same rule
// as where names enter (common/validate.hpp) so the two cannot disagree, and the day and time
// of `at` in the facility's zone.
Result<Values> ChildMailValues(const TemplateSet& templates, TimePoint at,
                               std::string_view child_name, std::string_view facility_name,
                               const TimeZone& zone) {
  ANSHIN_RETURN_IF_ERROR(CheckName("child name", child_name));
  ANSHIN_RETURN_IF_ERROR(CheckName("facility name", facility_name));
  return Values{
      {"child", std::string(child_name)},         {"facility", std::string(facility_name)},
      {"date", FormatMailDate(at, zone)},         {"time", FormatMailTime(at, zone)},
      {"callcenter", CallcenterWords(templates)},
  };
}

}  // namespace

Result<MailText> ComposeNotice(const TemplateSet& templates, const Notice& notice,
                               std::string_view child_name, std::string_view facility_name,
                               const TimeZone& zone) {
  ANSHIN_ASSIGN_OR_RETURN(Values values,
                          ChildMailValues(templates, notice.at, child_name, facility_name, zone));
  TemplateKind kind = TemplateKind::kArrival;
  switch (notice.kind) {
    case NoticeKind::kArrival:
      kind = TemplateKind::kArrival;
      break;
    case NoticeKind::kDeparture:
      kind = TemplateKind::kDeparture;
      break;
    case NoticeKind::kInferredDeparture:
      kind = TemplateKind::kInferredDeparture;
      if (notice.arrival_at) {
        kind = TemplateKind::kInferredDepartureAfterArrival;
        values["arrival_time"] = FormatMailTime(*notice.arrival_at, zone);
      }
      break;
    case NoticeKind::kCorrection:
      kind = TemplateKind::kCorrection;
      if (!notice.arrival_at)
        return Status::InvalidArgument("correction notice without arrival_at");
      values["arrival_time"] = FormatMailTime(*notice.arrival_at, zone);
      values["earlier"] = notice.at - *notice.arrival_at <= kRecent ? "先ほど" : "本日";
      break;
  }
  MailText text = templates.Get(kind).Render(values);
  if (notice.late) {
    values["subject"] = std::move(text.subject);
    values["body"] = std::move(text.body);
    text = templates.Get(TemplateKind::kLate).Render(values);
  }
  // Whatever the ward's templates say: the guardian is told no card was tapped.
  if (notice.staff_recorded) text.body += "\n" + std::string(kStaffRecordedLine) + "\n";
  ANSHIN_RETURN_IF_ERROR(ValidateHeaderText("subject", text.subject));
  return text;
}

Result<MailText> ComposeVerification(const TemplateSet& templates, std::string_view code,
                                     std::string_view link, TimePoint expires,
                                     const TimeZone& zone) {
  ANSHIN_RETURN_IF_ERROR(CheckValue("verification code", code));
  ANSHIN_RETURN_IF_ERROR(CheckValue("verification link", link));
  Values values = {
      {"code", std::string(code)},
      {"link", std::string(link)},
      {"expires", FormatMailDate(expires, zone) + " " + FormatMailTime(expires, zone)},
      {"callcenter", CallcenterWords(templates)},
  };
  MailText text = templates.Get(TemplateKind::kVerification).Render(values);
  ANSHIN_RETURN_IF_ERROR(ValidateHeaderText("subject", text.subject));
  return text;
}

Result<MailText> ComposeNotArrived(const TemplateSet& templates, TimePoint expected_by,
                                   std::string_view child_name, std::string_view facility_name,
                                   const TimeZone& zone) {
  ANSHIN_ASSIGN_OR_RETURN(Values values,
                          ChildMailValues(templates, expected_by, child_name, facility_name, zone));
  MailText text = templates.Get(TemplateKind::kNotArrived).Render(values);
  ANSHIN_RETURN_IF_ERROR(ValidateHeaderText("subject", text.subject));
  return text;
}

Result<MailText> ComposeTestMail(const TemplateSet& templates, TimePoint now,
                                 const TimeZone& zone) {
  Values values = {
      {"date", FormatMailDate(now, zone)},
      {"time", FormatMailTime(now, zone)},
      {"callcenter", CallcenterWords(templates)},
  };
  MailText text = templates.Get(TemplateKind::kTest).Render(values);
  ANSHIN_RETURN_IF_ERROR(ValidateHeaderText("subject", text.subject));
  return text;
}

}  // namespace anshin::mail

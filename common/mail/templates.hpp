// Mail text per notification kind (DESIGN.md §6): Japanese defaults, overridable per kind.
//
// A template is the text of a small mail: a "Subject: ..." line, an empty line, then the body.
// Placeholders are written {name}; "{{" and "}}" stand for literal braces. Each kind accepts a
// fixed set of placeholders (see AllowedPlaceholders); an unknown placeholder, a missing
// subject, invalid UTF-8 or a control character is an error when the template is parsed, so
// that a bad override is reported at start-up and never at send time. Reading override files is
// the server's job (notify-server/mail/template_files.hpp); this file is pure.
//
// The "late" template wraps another kind's mail: it receives that mail's {subject} and {body}
// plus the real tap time, and its result is what is sent.
//
// TemplateSet and MailTemplate are immutable after construction and safe to share between
// threads.
#pragma once

#include <array>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/engine.hpp"
#include "common/status.hpp"
#include "common/time.hpp"

namespace anshin::mail {

enum class TemplateKind {
  kArrival,
  kDeparture,
  kInferredDeparture,
  kInferredDepartureAfterArrival,  // an arrival was mailed earlier that day: the child came back
  kCorrection,
  kLate,
  kVerification,
  kTest,
  kNotArrived,  // the child expected today has not arrived by {time} (the ward enables it)
};
inline constexpr std::array<TemplateKind, 9> kAllTemplateKinds = {
    TemplateKind::kArrival,           TemplateKind::kDeparture,
    TemplateKind::kInferredDeparture, TemplateKind::kInferredDepartureAfterArrival,
    TemplateKind::kCorrection,        TemplateKind::kLate,
    TemplateKind::kVerification,      TemplateKind::kTest,
    TemplateKind::kNotArrived};

// "arrival", "departure", "inferred_departure", "inferred_departure_after_arrival",
// "correction", "late", "verification", "test", "not_arrived": also the stem of the override
// file ("arrival.txt").
std::string_view TemplateKindName(TemplateKind kind);
// The placeholders `kind` accepts, e.g. {"child", "facility", "date", "time"}.
const std::vector<std::string_view>& AllowedPlaceholders(TemplateKind kind);
// The built-in Japanese text of `kind`.
std::string_view DefaultTemplateText(TemplateKind kind);

struct MailText {
  std::string subject;
  std::string body;
  friend bool operator==(const MailText&, const MailText&) = default;
};

class MailTemplate {
 public:
  static Result<MailTemplate> Parse(TemplateKind kind, std::string_view text);

  TemplateKind kind() const { return kind_; }
  // Substitutes placeholders; a placeholder missing from `values` becomes empty text.
  MailText Render(const std::map<std::string, std::string, std::less<>>& values) const;

 private:
  struct Segment {
    bool placeholder = false;
    std::string text;  // literal text or placeholder name
  };
  static Result<std::vector<Segment>> ParseSegments(TemplateKind kind, std::string_view text);
  static std::string Expand(const std::vector<Segment>& segments,
                            const std::map<std::string, std::string, std::less<>>& values);

  TemplateKind kind_ = TemplateKind::kArrival;
  std::vector<Segment> subject_;
  std::vector<Segment> body_;
};

// One template per kind, and the deployment's values every mail may show: {callcenter} is
// "コールセンター（電話 03-1234-5678）" when a phone number is set, else "コールセンター".
class TemplateSet {
 public:
  // The built-in Japanese templates.
  static TemplateSet Defaults();
  void SetCallcenterPhone(std::string phone) { callcenter_phone_ = std::move(phone); }
  const std::string& callcenter_phone() const { return callcenter_phone_; }
  // Replaces one kind's template; the error names the kind ("template arrival: ...").
  Status Override(TemplateKind kind, std::string_view text);
  const MailTemplate& Get(TemplateKind kind) const {
    return templates_[static_cast<std::size_t>(kind)];
  }

 private:
  std::array<MailTemplate, kAllTemplateKinds.size()> templates_;
  std::string callcenter_phone_;
};

// "11月26日" and "15:02" in the facility's zone: the {date} and {time} of the templates.
std::string FormatMailDate(TimePoint t, const TimeZone& zone);
std::string FormatMailTime(TimePoint t, const TimeZone& zone);

// The line a notice of a tap staff recorded on the facility board ends with.
inline constexpr std::string_view kStaffRecordedLine =
    "※カードのタッチがなかったため、この記録は施設の職員が入力しました。";

// The mail for one attendance notice. Names are the child's display name and the facility's
// name; times are shown in `zone` (the facility's). A late notice is wrapped in the "late"
// template. A correction says 「先ほど」 of the earlier tap only when it was within the hour,
// else 「本日」 ({earlier}). Fails (InvalidArgument) when a name breaks CheckName
// (common/validate.hpp), the rule every name must pass where it enters.
Result<MailText> ComposeNotice(const TemplateSet& templates, const Notice& notice,
                               std::string_view child_name, std::string_view facility_name,
                               const TimeZone& zone);

// The address-verification mail: a one-time code, the link that confirms it, and its expiry.
Result<MailText> ComposeVerification(const TemplateSet& templates, std::string_view code,
                                     std::string_view link, TimePoint expires,
                                     const TimeZone& zone);

// The guardian's "not arrived" mail: the child the facility expected today has no arrival by
// `expected_by` (the facility's expected-arrival time that day). Names as in ComposeNotice.
Result<MailText> ComposeNotArrived(const TemplateSet& templates, TimePoint expected_by,
                                   std::string_view child_name, std::string_view facility_name,
                                   const TimeZone& zone);

// The monthly test mail sent to every verified address.
Result<MailText> ComposeTestMail(const TemplateSet& templates, TimePoint now, const TimeZone& zone);

}  // namespace anshin::mail

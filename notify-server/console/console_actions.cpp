// The call centre's actions on a child's page (lost / found, resend, fix an address, enter a
// verification code) and the alert pages. Each POST: the session's CSRF token, the account's
// right over the child's facility (services/authz.hpp), the service that does it (which
// audits it), then 303 back to the page with a fixed message (no text of the request is
// reflected).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "notify-server/console/console.hpp"
#include "notify-server/console/form.hpp"
#include "notify-server/console/pages.hpp"
#include "services/audit_log.hpp"
#include "services/authz.hpp"

namespace anshin::console {
namespace {

namespace http = server::http;
using services::Action;
using services::StaffContext;

constexpr std::size_t kAlertRows = 300;

Action ActionOf(ChildActionKind kind) {
  switch (kind) {
    case ChildActionKind::kCardLost:
    case ChildActionKind::kCardFound:
      return Action::kMarkCardLostOrFound;
    case ChildActionKind::kReplaceCard:
      return Action::kBindReplacement;
    case ChildActionKind::kResend:
      return Action::kResendNotice;
    case ChildActionKind::kFixAddress:
      return Action::kFixAddress;
    case ChildActionKind::kEnterCode:
      return Action::kEnterVerificationCode;
    case ChildActionKind::kAbsence:
      return Action::kRecordAbsence;
    case ChildActionKind::kAttendDays:
      return Action::kSetAttendDays;
  }
  return Action::kManageStaff;
}

// The ?done= word the child's page turns into a message (Console::Child).
std::string_view DoneWord(ChildActionKind kind) {
  switch (kind) {
    case ChildActionKind::kCardLost:
      return "lost";
    case ChildActionKind::kCardFound:
      return "found";
    case ChildActionKind::kReplaceCard:
      return "replaced";
    case ChildActionKind::kResend:
      return "resent";
    case ChildActionKind::kFixAddress:
      return "address";
    case ChildActionKind::kEnterCode:
      return "verified";
    case ChildActionKind::kAbsence:
      return "absence";
    case ChildActionKind::kAttendDays:
      return "attends";
  }
  return "";
}

http::status StatusFor(const Status& s) {
  switch (s.code()) {
    case Status::Code::kNotFound:
      return http::status::not_found;
    case Status::Code::kInvalidArgument:
      return http::status::bad_request;
    case Status::Code::kPermissionDenied:
      return http::status::forbidden;
    default:
      return http::status::conflict;
  }
}

}  // namespace

Result<CardToken> Console::NewCardOf(std::string_view typed) const {
  // As read off a card or a reader's screen: "01 2E 4C 5A …", "01:2e:…" are the same IDm.
  std::string hex;
  for (char c : typed) {
    if (c == ' ' || c == ':' || c == '-') continue;
    hex += (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  if (hex.size() == 32) {
    auto token = CardToken::Parse(hex);
    if (!token.ok()) return Status::InvalidArgument("カード番号は 32 桁の 16 進数です");
    return *token;
  }
  if (hex.size() != 16)
    return Status::InvalidArgument(
        card_key_ ? "新しいカードの IDm（16 桁）かカード番号（32 桁）を入力してください"
                  : "新しいカードのカード番号（32 桁）を入力してください");
  if (!card_key_) {
    return Status::InvalidArgument(
        "このサーバーはカードの IDm を受け付けない設定です（server.card_key）。カード番号（32 "
        "桁）を入力するか、anshin-admin card replace を使ってください");
  }
  auto idm = Idm::Parse(hex);
  if (!idm.ok()) return Status::InvalidArgument("IDm は 16 桁の 16 進数です");
  return card_key_->TokenOf(*idm);  // the IDm goes no further than this line
}

std::optional<std::map<std::string, std::string>> Console::CheckedForm(
    const Request& req, const StaffContext& ctx) const {
  auto form = ParseForm(req.body());
  if (!form || !services::SameToken((*form)["csrf"], ctx.session.csrf_token)) return std::nullopt;
  return form;
}

Response Console::Refused(const Request& req, const StaffContext& ctx, const Status& status,
                          std::string_view back) {
  if (status.code() == Status::Code::kInternal || status.code() == Status::Code::kUnavailable)
    return Failed(req, &ctx, status);
  Data d;
  d.set("message", "できませんでした: " + status.message());
  d.set("back", std::string(back));
  return HtmlResponse(
      req, StatusFor(status),
      Page("できませんでした", Render("message.mustache", d), &ctx.staff, ctx.session.csrf_token));
}

Response Console::Denied(const Request& req, const StaffContext& ctx, std::string_view what) {
  Status s = store::InWrite(store_, [&](store::WriteTxn& t) {
    return services::AppendAudit(t, Who(ctx), "console.denied",
                                 "staff=" + ctx.staff.id.ToString() + " " + std::string(what));
  });
  if (!s.ok()) return Failed(req, &ctx, s);
  return Forbidden(req, ctx);
}

Response Console::PostChildAction(const Request& req, const StaffContext& ctx,
                                  const ChildAction& action) {
  auto form = CheckedForm(req, ctx);
  if (!form) return Forbidden(req, ctx);
  auto child =
      store::InRead(store_, [&](store::ReadTxn& t) { return t.children().Get(action.child); });
  if (!child.ok()) return Refused(req, ctx, child.status(), "/children");
  const Action what = ActionOf(action.kind);
  if (!services::Allowed({ctx.staff.role, ctx.staff.facility}, what, child->facility)) {
    return Denied(req, ctx,
                  "action=" + std::string(services::kActionNames.Name(what)) + " child=" +
                      action.child.ToString() + " facility=" + child->facility.ToString());
  }
  const std::string page = "/children/" + action.child.ToString();
  const store::Actor who = Who(ctx);
  // The guardian a form names must be this child's.
  auto guardian_of_child = [&]() -> Result<GuardianId> {
    std::optional<std::int64_t> id = PositiveInt((*form)["guardian"]);
    if (!id) return Status::InvalidArgument("no guardian chosen");
    ANSHIN_ASSIGN_OR_RETURN(store::Guardian g, guardians_.Get(GuardianId{*id}));
    if (g.child != action.child || g.removed)
      return Status::NotFound("this guardian is not one of the child's");
    return g.id;
  };
  Status done = Status::Ok();
  switch (action.kind) {
    case ChildActionKind::kCardLost:
      done = cards_.MarkChildCardLost(action.child, who).status();
      break;
    case ChildActionKind::kCardFound: {
      auto token = CardToken::Parse((*form)["card"]);
      if (!token.ok()) {
        done = Status::InvalidArgument("no card chosen");
        break;
      }
      auto card = cards_.Get(*token);
      if (!card.ok() || card->child != action.child) {
        done = Status::NotFound("this card is not one of the child's");
        break;
      }
      done = cards_.MarkFound(*token, who).status();
      break;
    }
    case ChildActionKind::kReplaceCard: {
      auto token = NewCardOf((*form)["card"]);
      if (!token.ok()) {
        done = token.status();
        break;
      }
      done = cards_.Replace(action.child, *token, who).status();
      // A child without a current card (a first card, or every card retired): this one is it.
      if (done.code() == Status::Code::kFailedPrecondition)
        done = cards_.Assign(action.child, *token, who);
      // Whose card it is stays unsaid: the account may not see that child.
      if (done.code() == Status::Code::kAlreadyExists)
        done =
            Status::AlreadyExists("このカードはすでに登録されています。別のカードを使ってください");
      break;
    }
    case ChildActionKind::kResend: {
      std::optional<std::int64_t> mail = PositiveInt((*form)["mail"]);
      done = mail ? notices_.Resend(*mail, action.child, who).status()
                  : Status::InvalidArgument("no mail chosen");
      break;
    }
    case ChildActionKind::kFixAddress: {
      auto g = guardian_of_child();
      if (!g.ok()) {
        done = g.status();
        break;
      }
      services::GuardianChange change;
      change.email = (*form)["email"];
      done = guardians_.Update(*g, change, who).status();
      break;
    }
    case ChildActionKind::kEnterCode: {
      auto g = guardian_of_child();
      done = g.ok() ? guardians_.VerifyByCode(*g, (*form)["code"], who) : g.status();
      break;
    }
    case ChildActionKind::kAbsence: {
      auto from = LocalDate::Parse((*form)["from"]);
      const std::string to_text = (*form)["to"];
      auto to = to_text.empty() ? from : LocalDate::Parse(to_text);
      if (!from.ok() || !to.ok()) {
        done = Status::InvalidArgument("日付を 2026-12-01 のように入力してください");
        break;
      }
      done = children_.RecordAbsence(action.child, *from, *to, (*form)["reason"], who).status();
      break;
    }
    case ChildActionKind::kAttendDays: {
      store::Child changed = *child;
      changed.attend_days = {};
      for (int day = 0; day < 7; ++day)
        if ((*form)[std::string(kWeekdayFields[day])] == "1") changed.attend_days.Add(day);
      done = children_.Update(changed, who);
      break;
    }
  }
  if (!done.ok()) return Refused(req, ctx, done, page);
  return Redirect(req, page + "?done=" + std::string(DoneWord(action.kind)));
}

Response Console::Alerts(const Request& req, const StaffContext& ctx) {
  const bool facility_role = ctx.staff.role == store::StaffRole::kFacility;
  const std::optional<FacilityId> scope =
      facility_role ? ctx.staff.facility : std::optional<FacilityId>();
  if (!services::Allowed({ctx.staff.role, ctx.staff.facility}, Action::kAcknowledgeAlert, scope))
    return Forbidden(req, ctx);
  auto alerts = inquiries_.Alerts(false, scope);
  if (!alerts.ok()) return Failed(req, &ctx, alerts.status());
  auto facilities = inquiries_.Facilities();
  if (!facilities.ok()) return Failed(req, &ctx, facilities.status());
  std::map<std::int64_t, const store::Facility*> by_id;
  for (const auto& f : *facilities) by_id[f.id.value] = &f;
  static const TimeZone fallback = TimeZone::Fixed("UTC", 0);
  Data open{Data::type::list}, done{Data::type::list};
  const std::vector<store::AlertRecord>& as = *alerts;
  std::size_t shown = 0;
  for (std::size_t i = as.size(); i > 0 && shown < kAlertRows; --i, ++shown) {
    const store::AlertRecord& a = as[i - 1];
    const store::Facility* f = a.facility ? by_id[a.facility->value] : nullptr;
    auto zone = f ? inquiries_.ZoneOf(*f) : Result<std::shared_ptr<const TimeZone>>(nullptr);
    const TimeZone& tz = zone.ok() && *zone ? **zone : fallback;
    const LocalDateTime at = tz.ToLocal(a.at);
    Data row;
    row.set("id", std::to_string(a.id));
    row.set("kind", std::string(services::AlertKindInWords(a.kind)));
    row.set("kind_name", std::string(AlertKindName(a.kind)));
    row.set("facility", f ? f->name : "全体");
    row.set("at", at.date.ToString() + " " + at.time.ToString());
    if (a.child) {
      row.set("child", a.child->ToString());
      row.set("child_link", "/children/" + a.child->ToString());
    }
    row.set("detail", a.detail);
    if (a.acknowledged) {
      row.set("ack_by", a.acknowledged_by);
      row.set("ack_note", a.ack_note);
      done.push_back(row);
    } else {
      row.set("csrf", ctx.session.csrf_token);
      open.push_back(row);
    }
  }
  Data d;
  d.set("open", open);
  d.set("done", done);
  d.set("open_count", std::to_string(open.list_value().size()));
  return HtmlResponse(
      req, http::status::ok,
      Page("警報", Render("alerts.mustache", d), &ctx.staff, ctx.session.csrf_token));
}

Response Console::PostAckAlert(const Request& req, const StaffContext& ctx, std::int64_t id) {
  auto form = CheckedForm(req, ctx);
  if (!form) return Forbidden(req, ctx);
  auto alert = store::InRead(store_, [&](store::ReadTxn& t) { return t.alerts().Get(id); });
  if (!alert.ok()) return Refused(req, ctx, alert.status(), "/alerts");
  if (!services::Allowed({ctx.staff.role, ctx.staff.facility}, Action::kAcknowledgeAlert,
                         alert->facility)) {
    return Denied(req, ctx, "action=acknowledge-alert alert=" + std::to_string(id));
  }
  auto acked = inquiries_.AcknowledgeAlert(id, (*form)["note"], Who(ctx));
  if (!acked.ok()) return Refused(req, ctx, acked.status(), "/alerts");
  if ((*form)["back"] == "board" && alert->facility) {
    auto f = store::InRead(store_,
                           [&](store::ReadTxn& t) { return t.facilities().Get(*alert->facility); });
    if (f.ok()) return Redirect(req, "/board?facility=" + f->code);
  }
  return Redirect(req, "/alerts");
}

}  // namespace anshin::console

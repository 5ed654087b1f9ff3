#include "notify-server/console/console.hpp"

#include <spdlog/spdlog.h>

#include "common/sys/logging.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "notify-server/console/assets.hpp"
#include "notify-server/console/form.hpp"
#include "notify-server/console/pages.hpp"
#include "services/audit_log.hpp"
#include "services/authz.hpp"

namespace anshin::console {
namespace {

namespace http = server::http;
using server::ToStd;
using services::Action;
using services::StaffContext;

constexpr std::size_t kRecentTaps = 20;
constexpr std::size_t kRecentMails = 20;
constexpr std::size_t kAuditRows = 200;

services::Principal PrincipalOf(const store::Staff& s) { return {s.role, s.facility}; }

std::string Cookie(const Request& req, std::string_view name) {
  auto it = req.find(http::field::cookie);
  return it == req.end() ? "" : CookieValue(ToStd(it->value()), name);
}

std::string LocalText(const TimeZone& zone, TimePoint t, bool with_date) {
  LocalDateTime l = zone.ToLocal(t);
  return with_date ? l.date.ToString() + " " + l.time.ToString() : l.time.ToString();
}

Data TapRow(const store::TapRecord& t, const TimeZone& zone, bool with_date) {
  Data d;
  d.set("at", LocalText(zone, t.corrected_at, with_date));
  d.set("direction", std::string(DirectionInWords(t.direction)));
  std::string reason(ReasonInJapanese(t.reason));
  if (!t.recorded_by.empty()) reason += "・職員が記録（" + t.recorded_by + ": " + t.note + "）";
  d.set("reason", reason);
  return d;
}

// The message for the ?done= word an action redirected with (console_actions.cpp).
std::string_view DoneInWords(std::string_view done) {
  if (done == "lost")
    return "カードを紛失にしました。このカードのタッチではメールを送らず、職員に警報します。";
  if (done == "found") return "カードを使用中に戻しました。";
  if (done == "replaced")
    return "新しいカードを登録しました。前のカードは使えなくなり、各施設のカードリーダーには次の通"
           "信"
           "で反映されます。";
  if (done == "resent") return "通知メールを再送の待ち行列に入れました。";
  if (done == "address")
    return "メールアドレスを変更しました。新しいアドレスに確認メールを送ります（確認まで通知は届き"
           "ません）。";
  if (done == "verified") return "確認コードを受け付けました。このアドレスに通知が届きます。";
  if (done == "attends")
    return "通所する曜日を保存しました。来所予定と未到着の警報はこの曜日で判断します。";
  if (done == "absence")
    return "欠席を記録しました。その日は来所予定に数えず、未到着の警報も出しません。";
  return "";
}

}  // namespace

Console::Console(store::Store& store, const Clock& clock, services::ZoneLoader zones)
    : store_(store),
      clock_(clock),
      accounts_(store, clock),
      inquiries_(store, std::move(zones)),
      cards_(store),
      guardians_(store),
      notices_(store),
      children_(store) {}

store::Actor Console::Who(const StaffContext& ctx) const {
  return {"staff:" + ctx.staff.name, clock_.Now()};
}

Response Console::Handle(const Request& req) {
  ConsoleCall call = Route(req);
  if (auto* res = std::get_if<Response>(&call)) return std::move(*res);
  if (std::holds_alternative<StyleSheet>(call)) {
    return TextResponse(req, http::status::ok, "text/css; charset=utf-8",
                        std::string(Asset("console.css").value_or("")));
  }
  if (std::holds_alternative<Script>(call)) {
    return TextResponse(req, http::status::ok, "text/javascript; charset=utf-8",
                        std::string(Asset("board.js").value_or("")));
  }
  if (std::holds_alternative<LoginPost>(call)) return PostLogin(req);

  Result<StaffContext> ctx = accounts_.Authenticate(Cookie(req, kSessionCookie));
  if (std::holds_alternative<LoginForm>(call)) {
    if (ctx.ok()) return Redirect(req, "/");
    return ShowLoginForm(req, http::status::ok, "", "");
  }
  if (!ctx.ok()) {
    if (ctx.status().code() != Status::Code::kUnauthenticated)
      return Failed(req, nullptr, ctx.status());
    // A POST without a session has no valid CSRF token either.
    if (req.method() == http::verb::post) {
      return HtmlResponse(req, http::status::forbidden,
                          Page("操作できません",
                               Render("message.mustache",
                                      [] {
                                        Data d;
                                        d.set("message", "ログインし直してください。");
                                        return d;
                                      }()),
                               nullptr, ""));
    }
    return Redirect(req, "/login");
  }
  if (std::holds_alternative<LogoutPost>(call)) return PostLogout(req, *ctx);
  if (std::holds_alternative<HomePage>(call)) {
    const services::Principal who = PrincipalOf(ctx->staff);
    if (services::Allowed(who, Action::kSearchChildren, ctx->staff.facility))
      return Redirect(req, "/children");
    if (services::Allowed(who, Action::kViewAuditLog, std::nullopt)) return Redirect(req, "/audit");
    return Forbidden(req, *ctx);
  }
  if (auto* search = std::get_if<SearchPage>(&call)) return Search(req, *ctx, *search);
  if (auto* child = std::get_if<ChildPage>(&call)) return Child(req, *ctx, *child);
  if (auto* action = std::get_if<ChildAction>(&call)) return PostChildAction(req, *ctx, *action);
  if (std::holds_alternative<AlertsPage>(call)) return Alerts(req, *ctx);
  if (auto* ack = std::get_if<AckAlert>(&call)) return PostAckAlert(req, *ctx, ack->id);
  if (auto* board = std::get_if<BoardPage>(&call)) return Board(req, *ctx, *board);
  if (auto* events = std::get_if<BoardEvents>(&call)) return BoardEventsOf(req, *ctx, *events);
  if (std::holds_alternative<OperationsPage>(call)) return Operations(req, *ctx);
  if (std::holds_alternative<BoardTap>(call)) return PostBoardTap(req, *ctx);
  return Audit(req, *ctx, std::get<AuditPage>(call));
}

Response Console::ShowLoginForm(const Request& req, http::status status, std::string_view message,
                                std::string_view name) {
  const std::string csrf = services::NewSecretToken();
  Data d;
  d.set("csrf", csrf);
  d.set("name", std::string(name));
  if (!message.empty()) d.set("message", std::string(message));
  Response res =
      HtmlResponse(req, status, Page("ログイン", Render("login.mustache", d), nullptr, ""));
  res.insert(http::field::set_cookie, CookieHeader(kLoginCsrfCookie, csrf));
  return res;
}

Response Console::PostLogin(const Request& req) {
  auto form = ParseForm(req.body());
  const std::string expected = Cookie(req, kLoginCsrfCookie);
  if (!form || !services::SameToken((*form)["csrf"], expected)) {
    return ShowLoginForm(req, http::status::forbidden,
                         "フォームの有効期限が切れました。もう一度ログインしてください。", "");
  }
  const std::string name = (*form)["name"];
  Result<services::StaffLogin> login = accounts_.Login(name, (*form)["password"]);
  if (!login.ok()) {
    switch (login.status().code()) {
      case Status::Code::kUnauthenticated:
        return ShowLoginForm(req, http::status::unauthorized, login.status().message(), name);
      case Status::Code::kPermissionDenied:
        return ShowLoginForm(req, http::status::forbidden, login.status().message(), name);
      default:
        return Failed(req, nullptr, login.status());
    }
  }
  Response res = Redirect(req, "/");
  res.insert(http::field::set_cookie, CookieHeader(kSessionCookie, login->cookie_value));
  res.insert(http::field::set_cookie, CookieHeader(kLoginCsrfCookie, ""));
  return res;
}

Response Console::PostLogout(const Request& req, const StaffContext& ctx) {
  auto form = ParseForm(req.body());
  if (!form || !services::SameToken((*form)["csrf"], ctx.session.csrf_token)) {
    return Forbidden(req, ctx);
  }
  if (Status s = accounts_.Logout(Cookie(req, kSessionCookie)); !s.ok())
    return Failed(req, &ctx, s);
  Response res = Redirect(req, "/login");
  res.insert(http::field::set_cookie, CookieHeader(kSessionCookie, ""));
  return res;
}

Response Console::Search(const Request& req, const StaffContext& ctx, const SearchPage& page) {
  const bool facility_role = ctx.staff.role == store::StaffRole::kFacility;
  const std::optional<FacilityId> scope =
      facility_role ? ctx.staff.facility : std::optional<FacilityId>();
  if (!services::Allowed(PrincipalOf(ctx.staff), Action::kSearchChildren, scope))
    return Forbidden(req, ctx);
  auto decoded = ParseForm("q=" + page.q);
  const std::string q = decoded ? (*decoded)["q"] : "";
  Data d;
  d.set("q", q);
  if (!q.empty()) {
    store::ChildQuery query;
    query.text = q;
    query.facility = scope;
    query.limit = 100;
    auto children = inquiries_.FindChildren(query, Who(ctx));
    if (!children.ok()) return Failed(req, &ctx, children.status());
    auto facilities = inquiries_.Facilities();
    if (!facilities.ok()) return Failed(req, &ctx, facilities.status());
    std::map<std::int64_t, std::string> names;
    for (const auto& f : *facilities) names[f.id.value] = f.name;
    Data list{Data::type::list};
    for (const auto& c : *children) {
      Data row;
      row.set("id", c.id.ToString());
      row.set("number", c.number.value_or(""));
      row.set("name", c.name);
      row.set("kana", c.kana);
      row.set("grade", c.grade ? std::to_string(*c.grade) + "年" : "");
      row.set("facility", names[c.facility.value]);
      row.set("status", c.status == store::ChildStatus::kEnrolled ? "在籍" : "退所");
      list.push_back(row);
    }
    d.set("searched", true);
    d.set("count", std::to_string(children->size()));
    d.set("children", list);
  }
  return HtmlResponse(
      req, http::status::ok,
      Page("児童検索", Render("children.mustache", d), &ctx.staff, ctx.session.csrf_token));
}

Response Console::Child(const Request& req, const StaffContext& ctx, const ChildPage& page) {
  const ChildId id = page.id;
  auto child = store::InRead(store_, [&](store::ReadTxn& t) { return t.children().Get(id); });
  if (!child.ok() && child.status().code() == Status::Code::kNotFound) {
    return HtmlResponse(req, http::status::not_found,
                        Page("見つかりません",
                             Render("message.mustache",
                                    [] {
                                      Data d;
                                      d.set("message", "この児童は登録されていません。");
                                      return d;
                                    }()),
                             &ctx.staff, ctx.session.csrf_token));
  }
  if (!child.ok()) return Failed(req, &ctx, child.status());
  if (!services::Allowed(PrincipalOf(ctx.staff), Action::kViewChild, child->facility)) {
    Status s = store::InWrite(store_, [&](store::WriteTxn& t) {
      return services::AppendAudit(t, Who(ctx), "console.denied",
                                   "staff=" + ctx.staff.id.ToString() +
                                       " action=view-child child=" + id.ToString() +
                                       " facility=" + child->facility.ToString());
    });
    if (!s.ok()) return Failed(req, &ctx, s);
    return Forbidden(req, ctx);
  }
  const store::Actor who = Who(ctx);
  auto record = inquiries_.ShowChild(id, who, "console");
  if (!record.ok()) return Failed(req, &ctx, record.status());
  if (access_.Record(ctx.staff.id, id, who.at)) {
    store::AlertRecord alert;
    alert.kind = AlertKind::kUnusualAccess;
    alert.facility = ctx.staff.facility;
    alert.at = who.at;
    alert.detail = "staff=" + ctx.staff.id.ToString();
    Status s = store::InWrite(
        store_, [&](store::WriteTxn& t) { return t.alerts().Insert(alert).status(); });
    if (!s.ok()) return Failed(req, &ctx, s);
    sys::LogEvent(spdlog::level::warn, "alert",
                  {{"kind", AlertKindName(alert.kind)}, {"staff", ctx.staff.id.value}});
  }
  auto zone = inquiries_.ZoneOf(record->facility);
  if (!zone.ok()) return Failed(req, &ctx, zone.status());
  const LocalDate today = (*zone)->DateOf(who.at);
  auto today_taps = inquiries_.Taps(id, today, who, "console");
  if (!today_taps.ok()) return Failed(req, &ctx, today_taps.status());
  auto all_taps = inquiries_.Taps(id, std::nullopt, who, "console");
  if (!all_taps.ok()) return Failed(req, &ctx, all_taps.status());
  auto mails = inquiries_.Mails(id, std::nullopt, who, "console");
  if (!mails.ok()) return Failed(req, &ctx, mails.status());

  const store::Child& c = record->child;
  const services::Principal me = PrincipalOf(ctx.staff);
  const bool can_cards = services::Allowed(me, Action::kMarkCardLostOrFound, c.facility);
  const bool can_resend = services::Allowed(me, Action::kResendNotice, c.facility);
  const bool can_fix = services::Allowed(me, Action::kFixAddress, c.facility);
  const bool can_code = services::Allowed(me, Action::kEnterVerificationCode, c.facility);
  Data d;
  d.set("child_id", c.id.ToString());
  if (services::Allowed(me, Action::kRecordAbsence, c.facility)) {
    d.set("can_absence", true);
    d.set("today_date", today.ToString());
  }
  d.set("csrf", ctx.session.csrf_token);
  if (std::string_view done = DoneInWords(page.done); !done.empty())
    d.set("done", std::string(done));
  d.set("name", c.name);
  d.set("kana", c.kana);
  d.set("number", c.number.value_or(""));
  d.set("grade", c.grade ? std::to_string(*c.grade) + "年" : "");
  d.set("facility", record->facility.name);
  d.set("status", c.status == store::ChildStatus::kEnrolled ? "在籍" : "退所");
  d.set("attends", WeekdaysInJapanese(c.attend_days));
  if (services::Allowed(me, Action::kSetAttendDays, c.facility) &&
      c.status == store::ChildStatus::kEnrolled) {
    Data days{Data::type::list};
    for (int i = 1; i <= 7; ++i) {
      Data day;
      day.set("field", std::string(kWeekdayFields[i % 7]));
      day.set("kanji", std::string(kWeekdayKanji[i % 7]));
      if (c.attend_days.Has(i % 7)) day.set("checked", true);
      days.push_back(day);
    }
    d.set("attend_days", days);
    d.set("can_attends", true);
  }
  Data cards{Data::type::list};
  for (const auto& card : record->cards) {
    Data row;
    row.set("token", card.token.hex().substr(0, 8) + "…");
    row.set("status", std::string(CardStatusInWords(card.status)));
    row.set("status_name", std::string(kCardStatusNames.Name(card.status)));
    row.set("issued", LocalText(**zone, card.issued_at, true));
    if (can_cards && card.status == CardStatus::kActive) row.set("can_lose", true);
    if (can_cards && card.status == CardStatus::kLost) {
      row.set("can_find", true);
      row.set("card", card.token.hex());
    }
    row.set("csrf", ctx.session.csrf_token);
    cards.push_back(row);
  }
  d.set("cards", cards);
  if (services::Allowed(me, Action::kBindReplacement, c.facility) &&
      c.status == store::ChildStatus::kEnrolled) {
    d.set("can_replace", true);
    d.set("replace_by_idm", card_key_.has_value());
  }
  Data today_list{Data::type::list};
  for (const auto& t : *today_taps) today_list.push_back(TapRow(t, **zone, false));
  d.set("today", today_list);
  Data recent{Data::type::list};
  const std::vector<store::TapRecord>& taps = *all_taps;
  for (std::size_t i = taps.size(); i > 0 && taps.size() - i < kRecentTaps; --i)
    recent.push_back(TapRow(taps[i - 1], **zone, true));
  d.set("recent", recent);
  Data mail_list{Data::type::list};
  const std::vector<services::MailRecord>& ms = *mails;
  for (std::size_t i = ms.size(); i > 0 && ms.size() - i < kRecentMails; --i) {
    const store::OutboxRow& row = ms[i - 1].row;
    Data m;
    m.set("created", LocalText(**zone, row.message.created_at, true));
    m.set("kind", std::string(MailKindInWords(row.message.kind)));
    m.set("state", std::string(MailStateInWords(row.state)));
    m.set("attempts", std::to_string(row.attempts));
    m.set("reply", row.relay_reply.empty() ? row.last_error : row.relay_reply);
    m.set("id", std::to_string(row.id));
    m.set("csrf", ctx.session.csrf_token);
    if (can_resend && store::NoticeKindOf(row.message.kind)) m.set("can_resend", true);
    mail_list.push_back(m);
  }
  d.set("mails", mail_list);
  Data guardians{Data::type::list};
  for (const auto& g : record->guardians) {
    Data row;
    row.set("email", g.guardian.email);  // masked by Inquiries (no reveal here)
    row.set("verified", g.guardian.verified ? "確認済み" : "未確認");
    std::string notices;
    if (g.guardian.wants_arrival) notices += "入室 ";
    if (g.guardian.wants_departure) notices += "退室";
    row.set("notices", notices);
    row.set("id", g.guardian.id.ToString());
    row.set("csrf", ctx.session.csrf_token);
    if (can_fix) row.set("can_fix", true);
    if (can_code && !g.guardian.verified) row.set("can_code", true);
    guardians.push_back(row);
  }
  d.set("guardians", guardians);
  auto absences = children_.Absences(id, today, today.AddDays(366));
  if (!absences.ok()) return Failed(req, &ctx, absences.status());
  Data absence_list{Data::type::list};
  for (const store::Absence& a : *absences) {
    Data row;
    row.set("from", a.from.ToString());
    row.set("to", a.to == a.from ? std::string() : "〜" + a.to.ToString());
    row.set("reason", a.reason);
    row.set("by", a.recorded_by);
    absence_list.push_back(row);
  }
  d.set("absences", absence_list);
  return HtmlResponse(
      req, http::status::ok,
      Page(c.name, Render("child.mustache", d), &ctx.staff, ctx.session.csrf_token));
}

Response Console::Audit(const Request& req, const StaffContext& ctx, const AuditPage& page) {
  if (!services::Allowed(PrincipalOf(ctx.staff), Action::kViewAuditLog, std::nullopt))
    return Forbidden(req, ctx);
  auto decoded = ParseForm("q=" + page.text + "&since=" + page.since);
  const std::string text = decoded ? (*decoded)["q"] : "";
  const std::string since_text = decoded ? (*decoded)["since"] : "";
  std::optional<TimePoint> since;
  if (auto day = LocalDate::Parse(since_text); day.ok()) {
    since = TimeZone::Fixed("Asia/Tokyo", 9 * 3600).At(*day, LocalTime{0});
  }
  auto entries = inquiries_.AuditLog(since);
  if (!entries.ok()) return Failed(req, &ctx, entries.status());
  Status chain =
      store::InRead(store_, [](store::ReadTxn& t) { return services::VerifyAuditChain(t); });
  Data d;
  d.set("chain", chain.ok() ? "ハッシュチェーンは検証済みです（改ざんなし）。"
                            : "ハッシュチェーンの検証に失敗しました。運用担当に連絡してください。");
  Data list{Data::type::list};
  const std::vector<store::AuditEntry>& es = *entries;
  std::size_t shown = 0;
  for (std::size_t i = es.size(); i > 0 && shown < kAuditRows; --i) {
    const store::AuditEntry& e = es[i - 1];
    if (!text.empty() && e.actor.find(text) == std::string::npos &&
        e.action.find(text) == std::string::npos && e.detail.find(text) == std::string::npos)
      continue;
    ++shown;
    Data row;
    row.set("id", std::to_string(e.id));
    row.set("at", FormatRfc3339(e.at));
    row.set("actor", e.actor);
    row.set("action", e.action);
    row.set("detail", e.detail);
    list.push_back(row);
  }
  d.set("entries", list);
  d.set("q", text);
  d.set("since", since_text);
  return HtmlResponse(
      req, http::status::ok,
      Page("監査ログ", Render("audit.mustache", d), &ctx.staff, ctx.session.csrf_token));
}

Response Console::Forbidden(const Request& req, const StaffContext& ctx) {
  Data d;
  d.set("message", "この操作を行う権限がありません。");
  return HtmlResponse(
      req, http::status::forbidden,
      Page("権限がありません", Render("message.mustache", d), &ctx.staff, ctx.session.csrf_token));
}

Response Console::Failed(const Request& req, const StaffContext* ctx, const Status& status) {
  const std::string error_id = services::NewSecretToken().substr(0, 12);
  spdlog::error("console: error {}: {}", error_id, status.ToString());
  Data d;
  d.set("message", "処理できませんでした。しばらくしてからもう一度お試しください（エラー番号 " +
                       error_id + "）。");
  return HtmlResponse(req, http::status::internal_server_error,
                      Page("エラー", Render("message.mustache", d), ctx ? &ctx->staff : nullptr,
                           ctx ? std::string_view(ctx->session.csrf_token) : std::string_view()));
}

}  // namespace anshin::console

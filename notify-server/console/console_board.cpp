// The facility board (today's children and their state, live), and the operations page
// (every facility's PC, reader, queue and clock; mail delivery; alerts; a chart of the day).
//
// Live board: /static/board.js opens an EventSource on /board/events. Each events response is
// one short `board` event carrying the board's version (a hash of what the board shows) and
// `retry: 1000`, so the browser asks again a second later; when the version differs from the
// page's, the script fetches the board again and swaps it in. No worker is held per open
// board, and a change shows within about a second.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <functional>
#include <map>

#include "common/wire.hpp"
#include "notify-server/console/console.hpp"
#include "notify-server/console/pages.hpp"
#include "services/authz.hpp"
#include "services/expected.hpp"

namespace anshin::console {
namespace {

namespace http = server::http;
using services::Action;
using services::StaffContext;

constexpr int kBoardChildren = 2000;
constexpr std::array<std::string_view, 7> kWeekdayNames{"日", "月", "火", "水", "木", "金", "土"};

std::string Ago(Millis d) {
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(d).count();
  if (minutes < 1) return "1分以内";
  if (minutes < 60) return std::to_string(minutes) + "分前";
  if (minutes < 48 * 60) return std::to_string(minutes / 60) + "時間前";
  return std::to_string(minutes / 60 / 24) + "日前";
}

struct BoardCounts {
  int expected = 0, here = 0, left = 0, not_yet = 0, unrecorded = 0, absent = 0;
};

// The board's state words and CSS class for one child.
struct ChildState {
  std::string_view word, css;
  std::string since;
};

ChildState StateOf(const std::optional<ChildDay>& day, const TimeZone& zone, bool after_closing,
                   BoardCounts& counts) {
  if (!day || day->visits.empty()) {
    ++counts.not_yet;
    return {"未到着", "not-yet", ""};
  }
  const Visit& last = day->visits.back();
  if (last.open()) {
    const std::string since = last.arrival ? zone.ToLocal(*last.arrival).time.ToString() : "";
    if (after_closing) {
      ++counts.unrecorded;
      return {"退室未記録", "unrecorded", since};
    }
    ++counts.here;
    return {"在室", "here", since};
  }
  ++counts.left;
  return {"退室済み", "left", last.departure ? zone.ToLocal(*last.departure).time.ToString() : ""};
}

}  // namespace

// The board's HTML for one facility, and its version (console_board.cpp's file comment).
struct Console::BoardView {
  std::string html;
  std::string version;
  Data children;    // for the forgotten-tap form beside the board
  std::string now;  // the form's default time
};

Result<Console::BoardView> Console::RenderBoard(const StaffContext& ctx,
                                                const store::Facility& facility) {
  ANSHIN_ASSIGN_OR_RETURN(std::shared_ptr<const TimeZone> zone, inquiries_.ZoneOf(facility));
  const TimePoint now = clock_.Now();
  const LocalDateTime local = zone->ToLocal(now);
  const LocalDate today = local.date;
  struct Snapshot {
    std::vector<store::Child> children;
    std::vector<store::StoredChildDay> days;
    std::vector<store::AlertRecord> alerts;
    services::ExpectedDay expected;
  };
  ANSHIN_ASSIGN_OR_RETURN(
      Snapshot snap, store::InRead(store_, [&](store::ReadTxn& t) -> Result<Snapshot> {
        Snapshot s;
        store::ChildQuery q;
        q.facility = facility.id;
        q.limit = kBoardChildren;
        ANSHIN_ASSIGN_OR_RETURN(s.children, t.children().Find(q));
        ANSHIN_ASSIGN_OR_RETURN(
            s.days, t.attendance().DaysOfFacility(facility.id, today, today.AddDays(1)));
        ANSHIN_ASSIGN_OR_RETURN(s.alerts, t.alerts().List(true));
        ANSHIN_ASSIGN_OR_RETURN(s.expected, services::ExpectedOn(t, facility, today));
        return s;
      }));
  std::map<std::int64_t, const ChildDay*> day_of;
  for (const auto& d : snap.days) day_of[d.child.value] = &d.day;
  const bool after_closing = local.time >= facility.closes;
  const unsigned weekday = today.Weekday();
  BoardCounts counts;
  Data rows{Data::type::list};
  std::sort(snap.children.begin(), snap.children.end(),
            [](const store::Child& a, const store::Child& b) { return a.kana < b.kana; });
  for (const store::Child& c : snap.children) {
    if (c.status != store::ChildStatus::kEnrolled) continue;
    auto it = day_of.find(c.id.value);
    std::optional<ChildDay> day;
    if (it != day_of.end()) day = *it->second;
    const bool came = day && !day->visits.empty();
    const bool absent = snap.expected.Absent(c.id);
    if (!came && !absent && !snap.expected.Expects(c, today)) continue;  // not a day they come
    ChildState state;
    if (!came && absent) {
      ++counts.absent;
      state = {"欠席", "absent", ""};
    } else {
      ++counts.expected;
      state = StateOf(day, *zone, after_closing, counts);
      if (!came && snap.expected.arrival_by && local.time >= *snap.expected.arrival_by) {
        state = {"未到着（予定時刻を過ぎています）", "not-arrived",
                 snap.expected.arrival_by->ToString() + " まで"};
      }
    }
    Data row;
    row.set("id", c.id.ToString());
    row.set("name", c.name);
    row.set("kana", c.kana);
    row.set("grade", c.grade ? std::to_string(*c.grade) + "年" : "");
    row.set("state", std::string(state.word));
    row.set("state_class", std::string(state.css));
    row.set("since", state.since);
    rows.push_back(row);
  }
  Data alerts{Data::type::list};
  for (const store::AlertRecord& a : snap.alerts) {
    if (a.facility != facility.id) continue;
    if (zone->DateOf(a.at) != today && a.kind != AlertKind::kNoDeparture) continue;
    Data row;
    row.set("id", std::to_string(a.id));
    row.set("kind", std::string(services::AlertKindInWords(a.kind)));
    row.set("kind_name", std::string(AlertKindName(a.kind)));
    row.set("at", zone->ToLocal(a.at).time.ToString());
    if (a.child) row.set("child", "/children/" + a.child->ToString());
    row.set("csrf", ctx.session.csrf_token);
    alerts.push_back(row);
  }
  Data d;
  d.set("facility", facility.name);
  d.set("code", facility.code);
  d.set("date", today.ToString() + "（" + std::string(kWeekdayNames[weekday % 7]) + "）");
  d.set("hours", facility.opens.ToString() + "〜" + facility.closes.ToString());
  d.set("children", rows);
  d.set("has_alerts", !alerts.list_value().empty());
  d.set("alerts", alerts);
  d.set("expected", std::to_string(counts.expected));
  d.set("here", std::to_string(counts.here));
  d.set("left", std::to_string(counts.left));
  d.set("not_yet", std::to_string(counts.not_yet));
  if (counts.unrecorded > 0) d.set("unrecorded", std::to_string(counts.unrecorded));
  d.set("absent", std::to_string(counts.absent));
  if (snap.expected.closed) d.set("closed", true);
  if (snap.expected.arrival_by) d.set("arrival_by", snap.expected.arrival_by->ToString());
  // Staff answering a parent's call should know whether the parent was mailed.
  if (facility.notify_not_arrived) d.set("tells_guardians", true);
  BoardView view;
  view.children = std::move(rows);
  view.now = LocalTime::HM(local.time.hour(), local.time.minute()).ToString();  // HH:MM
  view.html = Render("board.mustache", d);
  view.version = std::to_string(std::hash<std::string>{}(view.html));
  return view;
}

Result<std::optional<store::Facility>> Console::BoardFacility(const StaffContext& ctx,
                                                              std::string_view code) {
  if (ctx.staff.role == store::StaffRole::kFacility) {
    if (!ctx.staff.facility) return std::optional<store::Facility>();
    ANSHIN_ASSIGN_OR_RETURN(store::Facility f, store::InRead(store_, [&](store::ReadTxn& t) {
                              return t.facilities().Get(*ctx.staff.facility);
                            }));
    return std::optional<store::Facility>(f);
  }
  if (code.empty()) return std::optional<store::Facility>();
  auto f = inquiries_.FacilityByCode(code);
  if (!f.ok() && f.status().code() == Status::Code::kNotFound)
    return std::optional<store::Facility>();
  ANSHIN_RETURN_IF_ERROR(f.status());
  return std::optional<store::Facility>(*f);
}

Response Console::Board(const Request& req, const StaffContext& ctx, const BoardPage& page) {
  const services::Principal me{ctx.staff.role, ctx.staff.facility};
  if (!services::Allowed(me, Action::kRecordForgottenTap, ctx.staff.facility))
    return Forbidden(req, ctx);
  auto facility = BoardFacility(ctx, page.facility);
  if (!facility.ok()) return Failed(req, &ctx, facility.status());
  if (!*facility) {
    // The roles that see every facility choose one.
    auto all = inquiries_.Facilities();
    if (!all.ok()) return Failed(req, &ctx, all.status());
    Data list{Data::type::list};
    for (const auto& f : *all) {
      Data row;
      row.set("code", f.code);
      row.set("name", f.name);
      list.push_back(row);
    }
    Data d;
    d.set("facilities", list);
    return HtmlResponse(
        req, http::status::ok,
        Page("施設ボード", Render("board_choose.mustache", d), &ctx.staff, ctx.session.csrf_token));
  }
  auto view = RenderBoard(ctx, **facility);
  if (!view.ok()) return Failed(req, &ctx, view.status());
  Data d;
  d.set("code", (*facility)->code);
  d.set("version", view->version);
  d.set("board", view->html);
  d.set("children", view->children);
  d.set("now", view->now);
  d.set("csrf", ctx.session.csrf_token);
  if (auto reason = ParseReason(page.done); reason.ok())
    d.set("done", "記録しました: " + std::string(ReasonInJapanese(*reason)));
  return HtmlResponse(req, http::status::ok,
                      Page("施設ボード — " + (*facility)->name, Render("board_page.mustache", d),
                           &ctx.staff, ctx.session.csrf_token));
}

Response Console::BoardEventsOf(const Request& req, const StaffContext& ctx,
                                const BoardEvents& events) {
  const services::Principal me{ctx.staff.role, ctx.staff.facility};
  if (!services::Allowed(me, Action::kRecordForgottenTap, ctx.staff.facility))
    return Forbidden(req, ctx);
  auto facility = BoardFacility(ctx, events.facility);
  if (!facility.ok()) return Failed(req, &ctx, facility.status());
  if (!*facility) return TextResponse(req, http::status::not_found, "text/plain", "");
  auto view = RenderBoard(ctx, **facility);
  if (!view.ok()) return Failed(req, &ctx, view.status());
  return TextResponse(req, http::status::ok, "text/event-stream; charset=utf-8",
                      "retry: 1000\nevent: board\ndata: " + view->version + "\n\n");
}

Response Console::Operations(const Request& req, const StaffContext& ctx) {
  if (!services::Allowed({ctx.staff.role, ctx.staff.facility}, Action::kViewOperations,
                         std::nullopt))
    return Forbidden(req, ctx);
  const TimePoint now = clock_.Now();
  struct Snapshot {
    std::vector<store::Facility> facilities;
    std::vector<store::Agent> agents;
    std::vector<store::AlertRecord> alerts;
    store::OutboxStats mail;
    std::vector<std::vector<store::StoredChildDay>> days;  // by facility, today
  };
  std::vector<std::shared_ptr<const TimeZone>> zones;
  auto facilities = inquiries_.Facilities();
  if (!facilities.ok()) return Failed(req, &ctx, facilities.status());
  for (const auto& f : *facilities) {
    auto z = inquiries_.ZoneOf(f);
    if (!z.ok()) return Failed(req, &ctx, z.status());
    zones.push_back(*z);
  }
  auto snap = store::InRead(store_, [&](store::ReadTxn& t) -> Result<Snapshot> {
    Snapshot s;
    s.facilities = *facilities;
    ANSHIN_ASSIGN_OR_RETURN(s.agents, t.agents().List());
    ANSHIN_ASSIGN_OR_RETURN(s.alerts, t.alerts().List(true));
    ANSHIN_ASSIGN_OR_RETURN(s.mail, t.outbox().Stats(now));
    for (std::size_t i = 0; i < s.facilities.size(); ++i) {
      const LocalDate today = zones[i]->DateOf(now);
      ANSHIN_ASSIGN_OR_RETURN(
          auto days, t.attendance().DaysOfFacility(s.facilities[i].id, today, today.AddDays(1)));
      s.days.push_back(std::move(days));
    }
    return s;
  });
  if (!snap.ok()) return Failed(req, &ctx, snap.status());

  std::array<int, 24> arrivals{}, departures{};
  Data rows{Data::type::list};
  for (std::size_t i = 0; i < snap->facilities.size(); ++i) {
    const store::Facility& f = snap->facilities[i];
    const TimeZone& zone = *zones[i];
    for (const auto& day : snap->days[i]) {
      for (const Visit& v : day.day.visits) {
        if (v.arrival) ++arrivals[static_cast<std::size_t>(zone.ToLocal(*v.arrival).time.hour())];
        if (v.departure)
          ++departures[static_cast<std::size_t>(zone.ToLocal(*v.departure).time.hour())];
      }
    }
    int open_alerts = 0;
    for (const auto& a : snap->alerts) open_alerts += a.facility == f.id ? 1 : 0;
    bool any_agent = false;
    for (const store::Agent& a : snap->agents) {
      if (a.facility != f.id || a.status != store::AgentStatus::kActive) continue;
      if (a.cert_sha256.empty()) continue;  // the facility's console uploader, not a PC
      any_agent = true;
      Data row;
      row.set("facility", f.name);
      row.set("code", f.code);
      row.set("agent", a.name);
      row.set("alerts", std::to_string(open_alerts));
      if (a.last_contact) {
        row.set("contact", zone.ToLocal(*a.last_contact).time.ToString() + "（" +
                               Ago(std::chrono::duration_cast<Millis>(now - *a.last_contact)) +
                               "）");
      } else {
        row.set("contact", "連絡なし");
        row.set("warn_contact", true);
      }
      auto health = a.last_health_json.empty() ? Result<wire::Health>(Status::NotFound(""))
                                               : wire::ParseHealth(a.last_health_json);
      if (health.ok()) {
        row.set("reader", health->reader_state == "ok" ? std::string("正常")
                                                       : "異常（" + health->reader_state + "）");
        if (health->reader_state != "ok") row.set("warn_reader", true);
        row.set("queue", std::to_string(health->queue_depth));
        row.set("unknown", std::to_string(health->unknown_taps));
        if (a.last_contact) row.set("as_of", zone.ToLocal(*a.last_contact).time.ToString());
      } else {
        row.set("reader", "報告なし");
        row.set("queue", "—");
        row.set("unknown", "—");
      }
      row.set("skew", std::to_string(a.skew_ms / 1000) + " 秒");
      if (a.skew_flagged()) row.set("warn_skew", true);
      rows.push_back(row);
    }
    if (!any_agent) {
      Data row;
      row.set("facility", f.name);
      row.set("code", f.code);
      row.set("agent", "（未登録）");
      row.set("contact", "—");
      row.set("reader", "—");
      row.set("queue", "—");
      row.set("unknown", "—");
      row.set("skew", "—");
      row.set("alerts", std::to_string(open_alerts));
      rows.push_back(row);
    }
  }
  std::map<std::string, int> by_kind;
  for (const auto& a : snap->alerts) ++by_kind[std::string(services::AlertKindInWords(a.kind))];
  Data kinds{Data::type::list};
  for (const auto& [kind, n] : by_kind) {
    Data k;
    k.set("kind", kind);
    k.set("count", std::to_string(n));
    kinds.push_back(k);
  }
  Data d;
  d.set("rows", rows);
  d.set("queued", std::to_string(snap->mail.queued + snap->mail.sending));
  d.set("retrying", std::to_string(snap->mail.retrying));
  d.set("failed", std::to_string(snap->mail.failed));
  d.set("sent", std::to_string(snap->mail.sent));
  d.set("oldest", snap->mail.depth == 0 ? "—" : Ago(snap->mail.oldest_age));
  d.set("alert_kinds", kinds);
  d.set("alert_count", std::to_string(snap->alerts.size()));
  d.set("chart", HourChartSvg(arrivals, departures));
  return HtmlResponse(
      req, http::status::ok,
      Page("運用状況", Render("operations.mustache", d), &ctx.staff, ctx.session.csrf_token));
}

}  // namespace anshin::console

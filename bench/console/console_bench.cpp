// anshin-console-bench: how fast the staff console answers with a ward's data (issue 11: each
// page in < 50 ms p99 with 4,000 children and a year of taps). bench/console/run builds and
// runs it.
//
// In a temporary directory it writes a store directly through the store interface (fast): 20
// facilities, --children children with a card and a verified guardian each, and --days school
// days of taps (an arrival and a departure per child and day, with the days' attendance state),
// plus staff accounts; then asks Console::Handle for each page --requests times as a logged-in
// member of staff would (search, a child's page, the facility board and its events, alerts,
// operations, the audit log) and prints "key value" lines: the data's size, the seconds the
// setup took, and p50/p99/max in ms per page. Exits non-zero if a page does not answer 200.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "notify-server/console/console.hpp"
#include "services/staff.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace anshin::bench {
namespace {

namespace fs = std::filesystem;
namespace http = server::http;
using SteadyClock = std::chrono::steady_clock;

struct Options {
  int children = 4000;
  int days = 240;  // school days in a year
  int requests = 200;
  int facilities = 20;
};

class FixedClock final : public Clock {
 public:
  explicit FixedClock(TimePoint t) : t_(t) {}
  TimePoint Now() const override { return t_; }

 private:
  TimePoint t_;
};

std::string CookieOf(const server::Response& res, std::string_view name) {
  for (const auto& f : res) {
    if (f.name() != http::field::set_cookie) continue;
    std::string v(server::ToStd(f.value()));
    if (v.rfind(std::string(name) + "=", 0) == 0)
      return v.substr(name.size() + 1, v.find(';') - name.size() - 1);
  }
  return "";
}

int Run(const Options& o) {
  const fs::path dir =
      fs::temp_directory_path() / ("anshin-console-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{dir};
  store::SqliteOptions so;
  so.path = dir / "anshin.db";
  auto opened = store::SqliteStore::Open(so);
  if (!opened.ok()) {
    std::cerr << "console-bench: " << opened.status().ToString() << "\n";
    return 1;
  }
  std::unique_ptr<store::Store> st(std::move(opened).value());
  const TimeZone jst = TimeZone::Fixed("Asia/Tokyo", 9 * 3600);
  const LocalDate today{2026, 12, 1};
  const TimePoint now = jst.At(today, LocalTime::HM(17, 0));
  FixedClock clock(now);

  const auto setup_started = SteadyClock::now();
  std::vector<FacilityId> facilities;
  std::vector<std::pair<ChildId, FacilityId>> children;
  std::vector<CardToken> cards;
  Status s = store::InWrite(*st, [&](store::WriteTxn& t) -> Status {
    for (int f = 0; f < o.facilities; ++f) {
      store::Facility fac;
      fac.code = "f" + std::to_string(f);
      fac.name = "学童クラブ " + std::to_string(f);
      fac.expected_arrival_by = LocalTime::HM(16, 0);
      ANSHIN_ASSIGN_OR_RETURN(FacilityId id, t.facilities().Insert(fac, now));
      facilities.push_back(id);
    }
    store::Agent agent;
    for (int f = 0; f < o.facilities; ++f) {
      agent.name = "pc-" + std::to_string(f);
      agent.facility = facilities[static_cast<std::size_t>(f)];
      agent.cert_sha256 = std::string(64, 'a' + static_cast<char>(f % 6));
      agent.enrolled_at = now;
      ANSHIN_RETURN_IF_ERROR(t.agents().Insert(agent).status());
    }
    for (int i = 0; i < o.children; ++i) {
      store::Child c;
      c.name = "児童 " + std::to_string(i);
      c.kana = "じどう " + std::to_string(i);
      c.number = "2026-" + std::to_string(10000 + i);
      c.facility = facilities[static_cast<std::size_t>(i % o.facilities)];
      ANSHIN_ASSIGN_OR_RETURN(ChildId id, t.children().Insert(c, now));
      children.emplace_back(id, c.facility);
      char hex[33];
      std::snprintf(hex, sizeof hex, "%032x", i + 1);
      store::Card card;
      card.token = CardToken::Parse(hex).value();
      card.child = id;
      card.issued_at = now;
      ANSHIN_RETURN_IF_ERROR(t.cards().Insert(card));
      cards.push_back(card.token);
      store::Guardian g;
      g.child = id;
      g.email = "guardian" + std::to_string(i) + "@example.jp";
      g.verified = true;
      ANSHIN_RETURN_IF_ERROR(t.guardians().Insert(g, now).status());
    }
    return Status::Ok();
  });
  if (!s.ok()) {
    std::cerr << "console-bench: setup: " << s.ToString() << "\n";
    return 1;
  }
  // A year of school days: an arrival at 15:xx and a departure at 17:xx per child and day.
  std::size_t taps = 0;
  std::map<std::int64_t, std::uint64_t> seqs;
  for (int day = o.days; day >= 0; --day) {
    const LocalDate date = today.AddDays(-day * 7 / 5);
    s = store::InWrite(*st, [&](store::WriteTxn& t) -> Status {
      for (std::size_t i = 0; i < children.size(); ++i) {
        const auto [child, facility] = children[i];
        const AgentId agent{facility.value};
        const TimePoint in = jst.At(date, LocalTime{15 * 3600 + static_cast<int>(i % 3600)});
        const TimePoint out = in + std::chrono::hours(2);
        ChildDay cd;
        cd.date = date;
        Visit v;
        v.arrival = in;
        if (day > 0) v.departure = out;
        cd.visits.push_back(v);
        for (TimePoint at : {in, out}) {
          if (day == 0 && at == out) break;
          store::TapRecord r;
          r.agent = agent;
          r.seq = ++seqs[agent.value];
          r.card = cards[i];
          r.facility = facility;
          r.reader = "r1";
          r.tapped_at = r.corrected_at = r.received_at = at;
          r.reason = at == in ? Reason::kArrival : Reason::kDeparture;
          r.child = child;
          ANSHIN_RETURN_IF_ERROR(t.attendance().InsertTap(r));
          ++taps;
        }
        ANSHIN_RETURN_IF_ERROR(t.attendance().SaveChildDay(child, facility, cd));
      }
      return Status::Ok();
    });
    if (!s.ok()) {
      std::cerr << "console-bench: taps: " << s.ToString() << "\n";
      return 1;
    }
  }
  services::StaffAccounts accounts(*st, clock);
  const std::string password = "console bench password";
  for (auto [name, role] :
       {std::pair{"cc", store::StaffRole::kCallCenter},
        std::pair{"fac", store::StaffRole::kFacility}, std::pair{"op", store::StaffRole::kOperator},
        std::pair{"aud", store::StaffRole::kAuditor}}) {
    Status added = accounts
                       .Add({name, role, role == store::StaffRole::kFacility ? "f0" : "", ""},
                            password, {"bench", now})
                       .status();
    if (!added.ok()) {
      std::cerr << "console-bench: staff: " << added.ToString() << "\n";
      return 1;
    }
  }
  const double setup_s = std::chrono::duration<double>(SteadyClock::now() - setup_started).count();

  console::Console console(*st, clock, [](const std::string& name) {
    return Result<std::shared_ptr<const TimeZone>>(
        std::make_shared<const TimeZone>(TimeZone::Fixed(name, 9 * 3600)));
  });
  console.SetUnusualAccessLimit(1000000);
  auto send = [&](const std::string& target, const std::string& cookie) {
    server::Request req{http::verb::get, target, 11};
    if (!cookie.empty()) req.set(http::field::cookie, cookie);
    return console.Handle(req);
  };
  auto login = [&](const std::string& name) {
    server::Response form = send("/login", "");
    const std::string csrf = CookieOf(form, console::kLoginCsrfCookie);
    server::Request req{http::verb::post, "/login", 11};
    req.set(http::field::cookie, std::string(console::kLoginCsrfCookie) + "=" + csrf);
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.body() = "name=" + name + "&password=console+bench+password&csrf=" + csrf;
    req.prepare_payload();
    return std::string(console::kSessionCookie) + "=" +
           CookieOf(console.Handle(req), console::kSessionCookie);
  };
  const std::string cc = login("cc"), fac = login("fac"), op = login("op"), aud = login("aud");

  struct Page {
    std::string name;
    std::string cookie;
    std::function<std::string(int)> target;
  };
  const std::vector<Page> pages = {
      {"search", cc,
       [](int i) { return "/children?q=%E5%85%90%E7%AB%A5+" + std::to_string(i * 17 % 4000); }},
      {"child", cc,
       [&](int i) {
         return "/children/" +
                children[static_cast<std::size_t>(i * 37) % children.size()].first.ToString();
       }},
      {"board", fac, [](int) { return std::string("/board"); }},
      {"board_events", fac, [](int) { return std::string("/board/events"); }},
      {"alerts", cc, [](int) { return std::string("/alerts"); }},
      {"operations", op, [](int) { return std::string("/operations"); }},
      {"audit", aud, [](int) { return std::string("/audit"); }},
  };
  std::cout << "children " << children.size() << "\nfacilities " << facilities.size() << "\ntaps "
            << taps << "\nschool_days " << o.days + 1 << "\nsetup_s " << setup_s << "\n";
  int failures = 0;
  double worst_p99 = 0;
  for (const Page& p : pages) {
    std::vector<double> ms;
    for (int i = 0; i < o.requests; ++i) {
      const auto t0 = SteadyClock::now();
      server::Response res = send(p.target(i), p.cookie);
      ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
      if (res.result() != http::status::ok) {
        std::cerr << "console-bench: " << p.target(i) << " answered " << res.result_int() << "\n";
        ++failures;
        break;
      }
    }
    std::sort(ms.begin(), ms.end());
    const double p50 = ms[ms.size() / 2], p99 = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
    worst_p99 = std::max(worst_p99, p99);
    std::printf("%s_p50_ms %.2f\n%s_p99_ms %.2f\n%s_max_ms %.2f\n", p.name.c_str(), p50,
                p.name.c_str(), p99, p.name.c_str(), ms.back());
  }
  std::printf("worst_p99_ms %.2f\n", worst_p99);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace anshin::bench

int main(int argc, char** argv) {
  anshin::bench::Options o;
  CLI::App app{"anshin-console-bench: the staff console's page latency over a ward's data"};
  app.add_option("--children", o.children, "children (4000)");
  app.add_option("--days", o.days, "school days of taps before today (240)");
  app.add_option("--requests", o.requests, "requests per page (200)");
  app.add_option("--facilities", o.facilities, "facilities (20)");
  CLI11_PARSE(app, argc, argv);
  return anshin::bench::Run(o);
}

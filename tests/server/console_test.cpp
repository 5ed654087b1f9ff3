// The staff console (notify-server/console/) as a browser sees it, through Console::Handle with
// a real SQLite store in a temp dir: login, CSRF, lock-out, the security headers, search, the
// child's page with masked addresses, and a facility account refused another facility's child
// with an audit entry.
#include <catch2/catch.hpp>

#include "notify-server/console/console.hpp"
#include "notify-server/console/form.hpp"
#include "services/audit_log.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/fake_clock.hpp"
#include "tests/fakes/seed.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::console {
namespace {

namespace http = server::http;
using server::ToStd;
using store::Actor;
using store::StaffRole;

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }
const TimePoint kT0 = T("2026-12-01T15:00:00+09:00");
constexpr const char* kPassword = "correct horse battery";

struct World {
  fakes::TempDir dir{"console-test"};
  std::unique_ptr<store::Store> store = [this] {
    store::SqliteOptions o;
    o.path = dir / "anshin.db";
    return std::unique_ptr<store::Store>(store::SqliteStore::Open(o).value());
  }();
  fakes::Seed seed{*store, Actor{"operator-1", kT0}};
  FacilityId hikari1 = seed.Facility("hikari1", "光が丘第一学童クラブ");
  FacilityId hikari2 = seed.Facility("hikari2", "光が丘第二学童クラブ");
  ChildId sakura = seed.ChildWithCard("練馬 さくら", hikari1, fakes::Token('a'));
  ChildId haruto = seed.Child("<b>Haruto</b>", hikari2);
  fakes::FakeClock clock{kT0};
  Console console{*store, clock, fakes::FixedJst()};

  World() {
    seed.VerifiedGuardian(sakura, "hanako@example.jp");
    services::StaffAccounts accounts(*store, clock);
    for (auto [name, role, facility] : {std::tuple{"sato", StaffRole::kFacility, "hikari1"},
                                        std::tuple{"abe", StaffRole::kCallCenter, ""},
                                        std::tuple{"kanno", StaffRole::kAuditor, ""},
                                        std::tuple{"mori", StaffRole::kOperator, ""}}) {
      REQUIRE(accounts.Add({name, role, facility, ""}, kPassword, {"operator-1", kT0}).ok());
    }
    // A tap of sakura's card today, judged an arrival.
    AgentId agent = seed.Agent("hikari1-pc", hikari1, std::string(64, 'b'));
    auto txn = store->BeginWrite().value();
    store::TapRecord tap;
    tap.agent = agent;
    tap.seq = 1;
    tap.card = fakes::Token('a');
    tap.facility = hikari1;
    tap.reader = "r1";
    tap.tapped_at = tap.corrected_at = tap.received_at = kT0 - std::chrono::minutes(30);
    tap.reason = Reason::kArrival;
    tap.child = sakura;
    REQUIRE(txn->attendance().InsertTap(tap).ok());
    REQUIRE(txn->Commit().ok());
  }

  Response Send(http::verb verb, const std::string& target, const std::string& cookie = "",
                const std::string& body = "") {
    server::Request req{verb, target, 11};
    if (!cookie.empty()) req.set(http::field::cookie, cookie);
    if (verb == http::verb::post) {
      req.set(http::field::content_type, "application/x-www-form-urlencoded");
      req.body() = body;
      req.prepare_payload();
    }
    return console.Handle(req);
  }

  // The Set-Cookie value of `name` in a response ("" when none).
  static std::string SetCookie(const Response& res, std::string_view name) {
    for (const auto& f : res) {
      if (f.name() != http::field::set_cookie) continue;
      std::string v(ToStd(f.value()));
      if (v.rfind(std::string(name) + "=", 0) == 0)
        return v.substr(name.size() + 1, v.find(';') - name.size() - 1);
    }
    return "";
  }

  Response PostLogin(const std::string& name, const std::string& password) {
    Response form = Send(http::verb::get, "/login");
    const std::string csrf = SetCookie(form, kLoginCsrfCookie);
    REQUIRE(csrf.size() == 64);
    REQUIRE(form.body().find("value=\"" + csrf + "\"") != std::string::npos);
    return Send(http::verb::post, "/login", std::string(kLoginCsrfCookie) + "=" + csrf,
                "name=" + name + "&password=" + password + "&csrf=" + csrf);
  }

  // Logs in and returns the Cookie header of the session.
  std::string Login(const std::string& name) {
    Response res = PostLogin(name, "correct+horse+battery");
    REQUIRE(res.result() == http::status::see_other);
    const std::string session = SetCookie(res, kSessionCookie);
    REQUIRE(session.size() == 64);
    return std::string(kSessionCookie) + "=" + session;
  }

  // Logs in; the session's Cookie header and its CSRF token (read off a page).
  std::pair<std::string, std::string> Session(const std::string& name) {
    const std::string cookie = Login(name);
    Response page = Send(http::verb::get, "/alerts", cookie);
    const std::size_t at = page.body().find("name=\"csrf\" value=\"");
    REQUIRE(at != std::string::npos);
    return {cookie, page.body().substr(at + 19, 64)};
  }

  std::vector<store::AuditEntry> Audit() {
    return store::InRead(*store, [](store::ReadTxn& t) { return t.audit().List(); }).value();
  }
};

std::string Header(const Response& res, std::string_view name) {
  auto it = res.find(server::ToBeast(name));
  return it == res.end() ? "" : std::string(ToStd(it->value()));
}

void CheckSecurityHeaders(const Response& res) {
  CHECK(Header(res, "Content-Security-Policy") ==
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src "
        "'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  CHECK(Header(res, "X-Frame-Options") == "DENY");
  CHECK(Header(res, "X-Content-Type-Options") == "nosniff");
  CHECK(Header(res, "Referrer-Policy") == "no-referrer");
  CHECK(Header(res, "Strict-Transport-Security") == "max-age=31536000");
  CHECK(Header(res, "Cache-Control") == "no-store");
}

TEST_CASE("console: login sets a secure session cookie and leads to the role's page", "[console]") {
  World w;
  Response res = w.PostLogin("abe", "correct+horse+battery");
  REQUIRE(res.result() == http::status::see_other);
  CHECK(Header(res, "Location") == "/");
  bool session_cookie = false;
  for (const auto& f : res) {
    if (f.name() != http::field::set_cookie) continue;
    std::string v(ToStd(f.value()));
    CHECK(v.find("; Secure; HttpOnly; SameSite=Strict; Path=/") != std::string::npos);
    session_cookie |= v.rfind(std::string(kSessionCookie), 0) == 0;
  }
  CHECK(session_cookie);
  const std::string cookie =
      std::string(kSessionCookie) + "=" + World::SetCookie(res, kSessionCookie);
  CHECK(Header(w.Send(http::verb::get, "/", cookie), "Location") == "/children");
  CHECK(Header(w.Send(http::verb::get, "/login", cookie), "Location") == "/");
  // The auditor's page is the audit log.
  CHECK(Header(w.Send(http::verb::get, "/", w.Login("kanno")), "Location") == "/audit");
  // Without a session every page sends to the login form.
  CHECK(Header(w.Send(http::verb::get, "/children"), "Location") == "/login");
  CHECK(Header(w.Send(http::verb::get, "/children", "__Host-anshin_session=forged"), "Location") ==
        "/login");
}

TEST_CASE("console: a failed login says so and is audited without the password", "[console]") {
  World w;
  Response res = w.PostLogin("abe", "wrong+password+here");
  CHECK(res.result() == http::status::unauthorized);
  CHECK(res.body().find("名前またはパスワードが違います") != std::string::npos);
  CHECK(World::SetCookie(res, kSessionCookie).empty());
  auto audit = w.Audit();
  CHECK(audit.back().action == "staff.login_failed");
  CHECK(audit.back().actor == "staff:abe");
  for (const auto& e : audit) CHECK(e.detail.find("wrong") == std::string::npos);
}

TEST_CASE("console: five failures lock the account", "[console]") {
  World w;
  for (int i = 0; i < 5; ++i) {
    CHECK(w.PostLogin("abe", "wrong+password+here").result() == http::status::unauthorized);
  }
  Response locked = w.PostLogin("abe", "correct+horse+battery");
  CHECK(locked.result() == http::status::forbidden);
  CHECK(locked.body().find("ロック") != std::string::npos);
  w.clock.Advance(std::chrono::minutes(15));
  CHECK(w.PostLogin("abe", "correct+horse+battery").result() == http::status::see_other);
}

TEST_CASE("console: a POST without the right CSRF token is refused", "[console]") {
  World w;
  // A login form posted from elsewhere: no login cookie, or a token that does not match it.
  CHECK(w.Send(http::verb::post, "/login", "",
               "name=abe&password=correct+horse+battery&csrf=" + std::string(64, 'a'))
            .result() == http::status::forbidden);
  CHECK(w.Send(http::verb::post, "/login",
               std::string(kLoginCsrfCookie) + "=" + std::string(64, 'b'),
               "name=abe&password=correct+horse+battery&csrf=" + std::string(64, 'a'))
            .result() == http::status::forbidden);
  const std::string cookie = w.Login("abe");
  CHECK(w.Send(http::verb::post, "/logout", cookie, "").result() == http::status::forbidden);
  CHECK(w.Send(http::verb::post, "/logout", cookie, "csrf=" + std::string(64, 'a')).result() ==
        http::status::forbidden);
  // The session survived the refused logouts; the page carries its token, which works.
  Response page = w.Send(http::verb::get, "/children", cookie);
  REQUIRE(page.result() == http::status::ok);
  const std::size_t at = page.body().find("name=\"csrf\" value=\"");
  REQUIRE(at != std::string::npos);
  const std::string csrf = page.body().substr(at + 19, 64);
  Response out = w.Send(http::verb::post, "/logout", cookie, "csrf=" + csrf);
  CHECK(out.result() == http::status::see_other);
  CHECK(Header(out, "Location") == "/login");
  CHECK(Header(w.Send(http::verb::get, "/children", cookie), "Location") == "/login");
  CHECK(w.Audit().back().action == "staff.logout");
}

TEST_CASE("console: every response carries the security headers", "[console]") {
  World w;
  const std::string cookie = w.Login("abe");
  for (auto [verb, target, with_session] :
       {std::tuple{http::verb::get, "/login", false}, std::tuple{http::verb::get, "/", true},
        std::tuple{http::verb::get, "/children?q=x", true},
        std::tuple{http::verb::get, "/children/999", true},
        std::tuple{http::verb::get, "/audit", true},
        std::tuple{http::verb::get, "/static/console.css", false},
        std::tuple{http::verb::get, "/nowhere", false},
        std::tuple{http::verb::delete_, "/login", false},
        std::tuple{http::verb::post, "/logout", false}}) {
    INFO(target);
    Response res = w.Send(verb, target, with_session ? cookie : "");
    CheckSecurityHeaders(res);
  }
  Response css = w.Send(http::verb::get, "/static/console.css");
  CHECK(css.result() == http::status::ok);
  CHECK(Header(css, "Content-Type") == "text/css; charset=utf-8");
  CHECK(css.body().find("body {") != std::string::npos);
  CHECK(w.Send(http::verb::delete_, "/login").result() == http::status::method_not_allowed);
  CHECK(w.Send(http::verb::get, "/children/abc", cookie).result() == http::status::not_found);
  // The auditor sees no child; the call centre no audit log.
  CHECK(w.Send(http::verb::get, "/children", w.Login("kanno")).result() == http::status::forbidden);
  CHECK(w.Send(http::verb::get, "/audit", cookie).result() == http::status::forbidden);
}

TEST_CASE("console: search finds children, escaped, and a facility account only its own",
          "[console]") {
  World w;
  const std::string abe = w.Login("abe");
  Response res = w.Send(http::verb::get, "/children?q=%E7%B7%B4%E9%A6%AC", abe);  // 練馬
  REQUIRE(res.result() == http::status::ok);
  CHECK(res.body().find("練馬 さくら") != std::string::npos);
  CHECK(res.body().find("/children/" + w.sakura.ToString()) != std::string::npos);
  CHECK(res.body().find("1 件") != std::string::npos);
  Response html = w.Send(http::verb::get, "/children?q=Haruto", abe);
  CHECK(html.body().find("&lt;b&gt;Haruto&lt;/b&gt;") != std::string::npos);
  CHECK(html.body().find("<b>Haruto") == std::string::npos);
  CHECK(w.Audit().back().action == "child.search");

  // "a" matches both children (sakura's card token, Haruto's name); sato (hikari1) sees only
  // hikari1's.
  Response both = w.Send(http::verb::get, "/children?q=a", abe);
  CHECK(both.body().find("練馬 さくら") != std::string::npos);
  CHECK(both.body().find("Haruto") != std::string::npos);
  const std::string sato = w.Login("sato");
  Response own = w.Send(http::verb::get, "/children?q=a", sato);
  CHECK(own.body().find("練馬 さくら") != std::string::npos);
  CHECK(own.body().find("Haruto") == std::string::npos);
  Response other = w.Send(http::verb::get, "/children?q=Haruto", sato);
  CHECK(other.body().find("0 件") != std::string::npos);
}

TEST_CASE("console: the child's page shows taps, cards and mail, guardians masked", "[console]") {
  World w;
  Response res = w.Send(http::verb::get, "/children/" + w.sakura.ToString(), w.Login("abe"));
  REQUIRE(res.result() == http::status::ok);
  const std::string& body = res.body();
  CHECK(body.find("練馬 さくら") != std::string::npos);
  CHECK(body.find("14:30") != std::string::npos);  // today's tap, local time
  CHECK(body.find("入室（通知済み）") != std::string::npos);
  CHECK(body.find("aaaaaaaa…") != std::string::npos);  // the card, shortened
  CHECK(body.find("使用中") != std::string::npos);
  CHECK(body.find("アドレス確認") != std::string::npos);  // the verification mail
  CHECK(body.find(services::MaskEmail("hanako@example.jp")) != std::string::npos);
  CHECK(body.find("hanako@example.jp") == std::string::npos);
  bool viewed = false;
  for (const auto& e : w.Audit()) viewed |= e.action == "child.view" && e.actor == "staff:abe";
  CHECK(viewed);
}

TEST_CASE("console: a facility account asking for another facility's child gets 403, audited",
          "[console]") {
  World w;
  const std::string sato = w.Login("sato");
  CHECK(w.Send(http::verb::get, "/children/" + w.sakura.ToString(), sato).result() ==
        http::status::ok);
  Response res = w.Send(http::verb::get, "/children/" + w.haruto.ToString(), sato);
  CHECK(res.result() == http::status::forbidden);
  CHECK(res.body().find("Haruto") == std::string::npos);
  store::AuditEntry last = w.Audit().back();
  CHECK(last.action == "console.denied");
  CHECK(last.actor == "staff:sato");
  CHECK(last.detail.find("child=" + w.haruto.ToString()) != std::string::npos);
  REQUIRE(services::VerifyAuditChain(*w.store->BeginRead().value()).ok());
}

TEST_CASE("console: form and cookie parsing", "[console]") {
  auto form = ParseForm("a=1&b=%E3%81%82+x&a=2&empty=&flag").value();
  CHECK(form["a"] == "1");
  CHECK(form["b"] == "あ x");
  CHECK(form["empty"].empty());
  CHECK(form.count("flag") == 1);
  CHECK_FALSE(ParseForm("a=%E3%8").has_value());
  CHECK_FALSE(ParseForm("a=%zz").has_value());
  CHECK(CookieValue("x=1; __Host-anshin_session=abc; y=2", "__Host-anshin_session") == "abc");
  CHECK(CookieValue("x=1", "y").empty());
}

}  // namespace
}  // namespace anshin::console

namespace anshin::console {
namespace {

TEST_CASE("console: one account opening more children than the hourly limit raises one alert",
          "[console]") {
  World w;
  w.console.SetUnusualAccessLimit(1);
  const std::string abe = w.Login("abe");
  auto unusual = [&] {
    auto alerts = store::InRead(*w.store, [](store::ReadTxn& t) { return t.alerts().List(true); });
    REQUIRE(alerts.ok());
    int n = 0;
    for (const auto& a : *alerts) n += a.kind == AlertKind::kUnusualAccess;
    return n;
  };
  const std::string sakura = "/children/" + w.sakura.ToString();
  const std::string haruto = "/children/" + w.haruto.ToString();
  REQUIRE(w.Send(http::verb::get, sakura, abe).result() == http::status::ok);
  REQUIRE(w.Send(http::verb::get, sakura, abe).result() == http::status::ok);  // the same child
  CHECK(unusual() == 0);
  REQUIRE(w.Send(http::verb::get, haruto, abe).result() == http::status::ok);  // a second one
  CHECK(unusual() == 1);
  REQUIRE(w.Send(http::verb::get, haruto, abe).result() == http::status::ok);
  CHECK(unusual() == 1);  // once in the hour
}

TEST_CASE("AccessWatch counts distinct children per account in a sliding hour", "[console]") {
  AccessWatch watch(2);
  const store::StaffId a{1}, b{2};
  const TimePoint t0 = FromUnixMillis(1795600000000);
  CHECK_FALSE(watch.Record(a, ChildId{1}, t0));
  CHECK_FALSE(watch.Record(a, ChildId{2}, t0 + std::chrono::minutes(1)));
  CHECK_FALSE(watch.Record(b, ChildId{3}, t0 + std::chrono::minutes(2)));  // another account
  CHECK(watch.Record(a, ChildId{3}, t0 + std::chrono::minutes(3)));
  CHECK_FALSE(watch.Record(a, ChildId{4}, t0 + std::chrono::minutes(4)));  // reported already
  // Two hours later the earlier views have left the window.
  CHECK_FALSE(watch.Record(a, ChildId{5}, t0 + std::chrono::minutes(125)));
}

// ---- the call centre's actions, alerts, the facility board, operations ----------------------

bool Audited(World& w, std::string_view action, std::string_view actor) {
  for (const auto& e : w.Audit())
    if (e.action == action && e.actor == actor) return true;
  return false;
}

store::Card CardOf(World& w, const CardToken& token) {
  return services::Cards(*w.store).Get(token).value();
}

TEST_CASE("console: the call centre marks a card lost and found, a facility account may not",
          "[console]") {
  World w;
  const std::string page = "/children/" + w.sakura.ToString();
  auto [sato, sato_csrf] = w.Session("sato");
  // The facility account sees no lost/found buttons and is refused the POST, audited.
  CHECK(w.Send(http::verb::get, page, sato).body().find("紛失にする") == std::string::npos);
  CHECK(w.Send(http::verb::post, page + "/card-lost", sato, "csrf=" + sato_csrf).result() ==
        http::status::forbidden);
  CHECK(Audited(w, "console.denied", "staff:sato"));
  CHECK(CardOf(w, fakes::Token('a')).status == CardStatus::kActive);

  auto [abe, csrf] = w.Session("abe");
  CHECK(w.Send(http::verb::get, page, abe).body().find("紛失にする") != std::string::npos);
  // Without the session's token: refused, nothing changed.
  CHECK(
      w.Send(http::verb::post, page + "/card-lost", abe, "csrf=" + std::string(64, 'f')).result() ==
      http::status::forbidden);
  CHECK(CardOf(w, fakes::Token('a')).status == CardStatus::kActive);
  Response lost = w.Send(http::verb::post, page + "/card-lost", abe, "csrf=" + csrf);
  REQUIRE(lost.result() == http::status::see_other);
  CHECK(Header(lost, "Location") == page + "?done=lost");
  CHECK(CardOf(w, fakes::Token('a')).status == CardStatus::kLost);
  CHECK(Audited(w, "card.lost", "staff:abe"));
  Response shown = w.Send(http::verb::get, page + "?done=lost", abe);
  CHECK(shown.body().find("カードを紛失にしました") != std::string::npos);
  CHECK(shown.body().find("見つかった") != std::string::npos);
  // Lost twice: refused in words.
  Response again = w.Send(http::verb::post, page + "/card-lost", abe, "csrf=" + csrf);
  CHECK(again.result() == http::status::not_found);
  CHECK(again.body().find("できませんでした") != std::string::npos);
  // Found: a card of another child is not accepted from this page.
  CHECK(w.Send(http::verb::post, page + "/card-found", abe,
               "csrf=" + csrf + "&card=" + fakes::Token('c').hex())
            .result() == http::status::not_found);
  Response found = w.Send(http::verb::post, page + "/card-found", abe,
                          "csrf=" + csrf + "&card=" + fakes::Token('a').hex());
  REQUIRE(found.result() == http::status::see_other);
  CHECK(CardOf(w, fakes::Token('a')).status == CardStatus::kActive);
  CHECK(Audited(w, "card.found", "staff:abe"));
}

TEST_CASE("console: the call centre binds a replacement card by token, or by IDm with the key",
          "[console]") {
  World w;
  const std::string page = "/children/" + w.sakura.ToString();
  auto [sato, sato_csrf] = w.Session("sato");
  CHECK(w.Send(http::verb::get, page, sato).body().find("card-replace") == std::string::npos);
  CHECK(w.Send(http::verb::post, page + "/card-replace", sato,
               "csrf=" + sato_csrf + "&card=" + fakes::Token('c').hex())
            .result() == http::status::forbidden);
  CHECK(Audited(w, "console.denied", "staff:sato"));
  CHECK(CardOf(w, fakes::Token('a')).status == CardStatus::kActive);

  auto [abe, csrf] = w.Session("abe");
  const std::string form = w.Send(http::verb::get, page, abe).body();
  CHECK(form.find("/card-replace") != std::string::npos);
  CHECK(form.find("placeholder=\"カード番号（32桁）\"") != std::string::npos);
  // Without server.card_key an IDm cannot become a token: refused in words, nothing changed.
  Response no_key = w.Send(http::verb::post, page + "/card-replace", abe,
                           "csrf=" + csrf + "&card=012E4C5A6B7C8D9E");
  CHECK(no_key.result() == http::status::bad_request);
  CHECK(no_key.body().find("server.card_key") != std::string::npos);
  CHECK(no_key.body().find("012E4C5A6B7C8D9E") == std::string::npos);
  CHECK(w.Send(http::verb::post, page + "/card-replace", abe, "csrf=" + csrf + "&card=12345")
            .result() == http::status::bad_request);
  CHECK(CardOf(w, fakes::Token('a')).status == CardStatus::kActive);

  // A token as printed (capitals, spaces): the old card is retired at once.
  Response by_token = w.Send(http::verb::post, page + "/card-replace", abe,
                             "csrf=" + csrf + "&card=CCCCCCCC+CCCCCCCC+CCCCCCCC+CCCCCCCC");
  REQUIRE(by_token.result() == http::status::see_other);
  CHECK(Header(by_token, "Location") == page + "?done=replaced");
  CHECK(CardOf(w, fakes::Token('a')).status == CardStatus::kRetired);
  CHECK(CardOf(w, fakes::Token('c')).status == CardStatus::kActive);
  CHECK(CardOf(w, fakes::Token('c')).child == w.sakura);
  CHECK(Audited(w, "card.replace", "staff:abe"));
  CHECK(w.Send(http::verb::get, page + "?done=replaced", abe)
            .body()
            .find("新しいカードを登録しました") != std::string::npos);
  // A card already known is refused without saying whose it is.
  Response known = w.Send(http::verb::post, "/children/" + w.haruto.ToString() + "/card-replace",
                          abe, "csrf=" + csrf + "&card=" + fakes::Token('c').hex());
  CHECK(known.result() == http::status::conflict);
  CHECK(known.body().find("すでに登録されています") != std::string::npos);
  CHECK(known.body().find("child " + w.sakura.ToString()) == std::string::npos);

  // With the card key the IDm read off the new card is enough; it is stored nowhere.
  const CardKey key = CardKey::Parse(std::string(64, '7')).value();
  w.console.SetCardKey(key);
  CHECK(w.Send(http::verb::get, page, abe).body().find("IDm（16桁）") != std::string::npos);
  Response by_idm = w.Send(http::verb::post, page + "/card-replace", abe,
                           "csrf=" + csrf + "&card=01%3A2e%3A4c%3A5a%3A6b%3A7c%3A8d%3A9e");
  REQUIRE(by_idm.result() == http::status::see_other);
  const CardToken token = key.TokenOf(Idm::Parse("012e4c5a6b7c8d9e").value());
  CHECK(CardOf(w, token).status == CardStatus::kActive);
  CHECK(CardOf(w, token).child == w.sakura);
  CHECK(CardOf(w, fakes::Token('c')).status == CardStatus::kRetired);
  for (const auto& e : w.Audit()) CHECK(e.detail.find("012e4c5a") == std::string::npos);

  // A child without a card gets the new one as its first.
  Response first = w.Send(http::verb::post, "/children/" + w.haruto.ToString() + "/card-replace",
                          abe, "csrf=" + csrf + "&card=" + fakes::Token('d').hex());
  REQUIRE(first.result() == http::status::see_other);
  CHECK(CardOf(w, fakes::Token('d')).child == w.haruto);
  CHECK(Audited(w, "card.assign", "staff:abe"));
}

TEST_CASE("console: facility staff set the weekdays their own children attend", "[console]") {
  World w;
  const std::string page = "/children/" + w.sakura.ToString();
  auto [sato, csrf] = w.Session("sato");
  const std::string before = w.Send(http::verb::get, page, sato).body();
  CHECK(before.find("<dd>未登録</dd>") != std::string::npos);
  CHECK(before.find("name=\"mon\" value=\"1\">") != std::string::npos);  // unchecked
  Response saved =
      w.Send(http::verb::post, page + "/attends", sato, "csrf=" + csrf + "&mon=1&wed=1&fri=1");
  REQUIRE(saved.result() == http::status::see_other);
  CHECK(Header(saved, "Location") == page + "?done=attends");
  auto child = [&](ChildId id) {
    return store::InRead(*w.store, [&](store::ReadTxn& t) { return t.children().Get(id); }).value();
  };
  CHECK(services::FormatWeekdays(child(w.sakura).attend_days) == "mon,wed,fri");
  CHECK(Audited(w, "child.update", "staff:sato"));
  const std::string after = w.Send(http::verb::get, page + "?done=attends", sato).body();
  CHECK(after.find("<dd>月・水・金</dd>") != std::string::npos);
  CHECK(after.find("name=\"wed\" value=\"1\" checked>") != std::string::npos);
  CHECK(after.find("通所する曜日を保存しました") != std::string::npos);
  // Another facility's child: refused and audited, unchanged.
  CHECK(w.Send(http::verb::post, "/children/" + w.haruto.ToString() + "/attends", sato,
               "csrf=" + csrf + "&mon=1")
            .result() == http::status::forbidden);
  CHECK(child(w.haruto).attend_days.empty());
  // Every box cleared: not recorded again.
  REQUIRE(w.Send(http::verb::post, page + "/attends", sato, "csrf=" + csrf).result() ==
          http::status::see_other);
  CHECK(child(w.sakura).attend_days.empty());
}

TEST_CASE("console: a notice is sent again, only an attendance notice of this child", "[console]") {
  World w;
  const GuardianId g =
      store::InRead(*w.store, [&](store::ReadTxn& t) { return t.guardians().OfChild(w.sakura); })
          .value()[0]
          .id;
  store::OutboxMessage m;
  m.kind = store::OutboxKind::kArrival;
  m.guardian = g;
  m.child = w.sakura;
  m.facility = w.hikari1;
  m.tap_at = kT0 - std::chrono::minutes(30);
  m.created_at = kT0 - std::chrono::minutes(30);
  const std::int64_t arrival =
      store::InWrite(*w.store, [&](store::WriteTxn& t) { return t.outbox().Insert(m); }).value();
  const std::string page = "/children/" + w.sakura.ToString();
  auto [abe, csrf] = w.Session("abe");
  CHECK(w.Send(http::verb::get, page, abe).body().find("再送") != std::string::npos);
  Response res = w.Send(http::verb::post, page + "/resend", abe,
                        "csrf=" + csrf + "&mail=" + std::to_string(arrival));
  REQUIRE(res.result() == http::status::see_other);
  auto rows =
      store::InRead(*w.store, [&](store::ReadTxn& t) { return t.outbox().List(w.sakura); }).value();
  REQUIRE(rows.back().id > arrival);
  CHECK(rows.back().message.kind == store::OutboxKind::kArrival);
  CHECK(rows.back().message.tap_at == m.tap_at);
  CHECK(rows.back().message.created_at == kT0);
  CHECK(rows.back().state == store::OutboxState::kQueued);
  CHECK(Audited(w, "mail.resend", "staff:abe"));
  // The verification mail (row 1 of this child) cannot be sent again this way.
  const std::int64_t verification = rows.front().id;
  REQUIRE(rows.front().message.kind == store::OutboxKind::kVerification);
  Response refused = w.Send(http::verb::post, page + "/resend", abe,
                            "csrf=" + csrf + "&mail=" + std::to_string(verification));
  CHECK(refused.result() == http::status::conflict);
  // Nor a not-arrived mail: it was about that afternoon. The page lists it without a button.
  store::OutboxMessage not_arrived = m;
  not_arrived.kind = store::OutboxKind::kNotArrived;
  const std::int64_t late = store::InWrite(*w.store, [&](store::WriteTxn& t) {
                              return t.outbox().Insert(not_arrived);
                            }).value();
  const std::string listed = w.Send(http::verb::get, page, abe).body();
  CHECK(listed.find("未到着のお知らせ") != std::string::npos);
  CHECK(listed.find("name=\"mail\" value=\"" + std::to_string(arrival) + "\"") !=
        std::string::npos);
  CHECK(listed.find("name=\"mail\" value=\"" + std::to_string(late) + "\"") == std::string::npos);
  CHECK(w.Send(http::verb::post, page + "/resend", abe,
               "csrf=" + csrf + "&mail=" + std::to_string(late))
            .result() == http::status::conflict);
  // Another child's page cannot reach this child's mail.
  CHECK(w.Send(http::verb::post, "/children/" + w.haruto.ToString() + "/resend", abe,
               "csrf=" + csrf + "&mail=" + std::to_string(arrival))
            .result() == http::status::not_found);
}

TEST_CASE("console: an address fixed starts unverified and a code read out verifies it",
          "[console]") {
  World w;
  const GuardianId g =
      store::InRead(*w.store, [&](store::ReadTxn& t) { return t.guardians().OfChild(w.sakura); })
          .value()[0]
          .id;
  const std::string page = "/children/" + w.sakura.ToString();
  auto [abe, csrf] = w.Session("abe");
  Response res =
      w.Send(http::verb::post, page + "/address", abe,
             "csrf=" + csrf + "&guardian=" + g.ToString() + "&email=hanako.nerima%40example.jp");
  REQUIRE(res.result() == http::status::see_other);
  store::Guardian now =
      store::InRead(*w.store, [&](store::ReadTxn& t) { return t.guardians().Get(g); }).value();
  CHECK(now.email == "hanako.nerima@example.jp");
  CHECK_FALSE(now.verified);
  Response shown = w.Send(http::verb::get, page, abe);
  CHECK(shown.body().find(services::MaskEmail("hanako.nerima@example.jp")) != std::string::npos);
  CHECK(shown.body().find("hanako.nerima@example.jp") == std::string::npos);
  CHECK(shown.body().find("確認コードを入力") != std::string::npos);
  // The code the guardian reads out on the phone is the one in the new verification mail.
  auto rows =
      store::InRead(*w.store, [&](store::ReadTxn& t) { return t.outbox().List(w.sakura); }).value();
  const std::string code = rows.back().message.verification_code;
  REQUIRE(code.size() == 6);
  const std::string wrong = code == "000000" ? "111111" : "000000";
  CHECK(w.Send(http::verb::post, page + "/code", abe,
               "csrf=" + csrf + "&guardian=" + g.ToString() + "&code=" + wrong)
            .result() != http::status::see_other);
  Response ok = w.Send(http::verb::post, page + "/code", abe,
                       "csrf=" + csrf + "&guardian=" + g.ToString() + "&code=" + code);
  CHECK(ok.result() == http::status::see_other);
  CHECK(store::InRead(*w.store, [&](store::ReadTxn& t) { return t.guardians().Get(g); })
            .value()
            .verified);
  // A guardian of another child is not reachable from this page.
  CHECK(w.Send(http::verb::post, "/children/" + w.haruto.ToString() + "/address", abe,
               "csrf=" + csrf + "&guardian=" + g.ToString() + "&email=x%40example.jp")
            .result() == http::status::not_found);
}

std::int64_t RaiseAlert(World& w, AlertKind kind, std::optional<FacilityId> facility,
                        std::optional<ChildId> child, TimePoint at) {
  store::AlertRecord a;
  a.kind = kind;
  a.facility = facility;
  a.child = child;
  a.at = at;
  a.detail = "test";
  return store::InWrite(*w.store, [&](store::WriteTxn& t) { return t.alerts().Insert(a); }).value();
}

TEST_CASE("console: alerts are listed by role and acknowledged with a note", "[console]") {
  World w;
  const std::int64_t lost = RaiseAlert(w, AlertKind::kLostCardSeen, w.hikari1, w.sakura, kT0);
  const std::int64_t other = RaiseAlert(w, AlertKind::kAgentSilent, w.hikari2, std::nullopt, kT0);
  auto [sato, sato_csrf] = w.Session("sato");
  Response mine = w.Send(http::verb::get, "/alerts", sato);
  REQUIRE(mine.result() == http::status::ok);
  CHECK(mine.body().find("id=\"alert-" + std::to_string(lost) + "\"") != std::string::npos);
  CHECK(mine.body().find("id=\"alert-" + std::to_string(other) + "\"") == std::string::npos);
  CHECK(w.Send(http::verb::post, "/alerts/" + std::to_string(other) + "/ack", sato,
               "csrf=" + sato_csrf + "&note=x")
            .result() == http::status::forbidden);
  // The note is required.
  CHECK(w.Send(http::verb::post, "/alerts/" + std::to_string(lost) + "/ack", sato,
               "csrf=" + sato_csrf + "&note=")
            .result() == http::status::bad_request);
  Response ack =
      w.Send(http::verb::post, "/alerts/" + std::to_string(lost) + "/ack", sato,
             "csrf=" + sato_csrf + "&note=%E4%BF%9D%E8%AD%B7%E8%80%85%E3%81%AB%E9%80%A3%E7%B5%A1");
  REQUIRE(ack.result() == http::status::see_other);
  auto stored = store::InRead(*w.store, [&](store::ReadTxn& t) { return t.alerts().Get(lost); });
  REQUIRE(stored.ok());
  CHECK(stored->acknowledged);
  CHECK(stored->ack_note == "保護者に連絡");
  CHECK(stored->acknowledged_by == "staff:sato");
  auto [abe, csrf] = w.Session("abe");
  Response all = w.Send(http::verb::get, "/alerts", abe);
  CHECK(all.body().find("id=\"alert-" + std::to_string(other) + "\"") != std::string::npos);
  CHECK(all.body().find("保護者に連絡") != std::string::npos);  // in the acknowledged list
  // The auditor has no alert page.
  CHECK(w.Send(http::verb::get, "/alerts", w.Login("kanno")).result() == http::status::forbidden);
}

void SaveDay(World& w, ChildId child, FacilityId facility, std::optional<TimePoint> arrival,
             std::optional<TimePoint> departure) {
  ChildDay day;
  day.date = LocalDate{2026, 12, 1};
  Visit v;
  v.arrival = arrival;
  v.departure = departure;
  day.visits.push_back(v);
  REQUIRE(store::InWrite(*w.store, [&](store::WriteTxn& t) {
            return t.attendance().SaveChildDay(child, facility, day);
          }).ok());
}

std::string BoardVersion(const std::string& body) {
  const std::size_t at = body.find("data-version=\"");
  REQUIRE(at != std::string::npos);
  return body.substr(at + 14, body.find('"', at + 14) - at - 14);
}

TEST_CASE("console: the facility board shows today's children and changes its version live",
          "[console]") {
  World w;
  ChildId ren = w.seed.Child("練馬 れん", w.hikari1);
  SaveDay(w, w.sakura, w.hikari1, kT0 - std::chrono::minutes(30), std::nullopt);
  auto [sato, csrf] = w.Session("sato");
  Response board = w.Send(http::verb::get, "/board", sato);
  REQUIRE(board.result() == http::status::ok);
  const std::string& body = board.body();
  CHECK(body.find("練馬 さくら") != std::string::npos);
  CHECK(body.find("<td class=\"state\">在室</td><td>14:30</td>") != std::string::npos);
  CHECK(body.find("練馬 れん") != std::string::npos);
  CHECK(body.find("<td class=\"state\">未到着</td>") != std::string::npos);
  CHECK(body.find("&lt;b&gt;Haruto") == std::string::npos);  // another facility's child
  CHECK(body.find("<script src=\"/static/board.js\"></script>") != std::string::npos);
  const std::string version = BoardVersion(body);

  Response events = w.Send(http::verb::get, "/board/events", sato);
  REQUIRE(events.result() == http::status::ok);
  CHECK(Header(events, "Content-Type") == "text/event-stream; charset=utf-8");
  CHECK(events.body() == "retry: 1000\nevent: board\ndata: " + version + "\n\n");

  // sakura leaves, and a lost card is seen: the version changes, the board shows both.
  SaveDay(w, w.sakura, w.hikari1, kT0 - std::chrono::minutes(30), kT0);
  RaiseAlert(w, AlertKind::kLostCardSeen, w.hikari1, ren, kT0);
  Response later = w.Send(http::verb::get, "/board/events", sato);
  CHECK(later.body().find("data: " + version + "\n") == std::string::npos);
  const std::string now = w.Send(http::verb::get, "/board", sato).body();
  CHECK(now.find("<td class=\"state\">退室済み</td><td>15:00</td>") != std::string::npos);
  CHECK(now.find("紛失届のカードがタッチされました") != std::string::npos);

  // After closing (19:00) an open visit is "departure not recorded".
  SaveDay(w, ren, w.hikari1, kT0, std::nullopt);
  w.clock.Set(T("2026-12-01T19:30:00+09:00"));  // (the idle session expired meanwhile)
  CHECK(w.Send(http::verb::get, "/board", w.Login("sato")).body().find("退室未記録") !=
        std::string::npos);

  // The call centre chooses a facility; the auditor has no board.
  auto [abe, abe_csrf] = w.Session("abe");
  CHECK(w.Send(http::verb::get, "/board", abe).body().find("/board?facility=hikari2") !=
        std::string::npos);
  CHECK(w.Send(http::verb::get, "/board?facility=hikari2", abe).body().find("&lt;b&gt;Haruto") !=
        std::string::npos);
  CHECK(w.Send(http::verb::get, "/board", w.Login("kanno")).result() == http::status::forbidden);
  CHECK(w.Send(http::verb::get, "/static/board.js").body().find("EventSource") !=
        std::string::npos);
}

TEST_CASE("console: the operations page shows each facility's PC, mail and a chart of the day",
          "[console]") {
  World w;
  SaveDay(w, w.sakura, w.hikari1, kT0 - std::chrono::minutes(30), std::nullopt);
  CHECK(w.Send(http::verb::get, "/operations", w.Login("abe")).result() == http::status::forbidden);
  Response res = w.Send(http::verb::get, "/operations", w.Login("mori"));
  REQUIRE(res.result() == http::status::ok);
  const std::string& body = res.body();
  CHECK(body.find("hikari1-pc") != std::string::npos);
  CHECK(body.find("連絡なし") != std::string::npos);  // the seeded PC never uploaded
  CHECK(body.find("光が丘第二学童クラブ") != std::string::npos);
  CHECK(body.find("<svg") != std::string::npos);
  CHECK(body.find("<title>14時台 入室 1人</title>") != std::string::npos);
  CHECK(body.find("<title>15時台 入室 0人</title>") != std::string::npos);
  CHECK(body.find("送信待ち") != std::string::npos);
}

TEST_CASE("console: staff record a forgotten tap on the board, the guardian's mail says so",
          "[console]") {
  World w;
  ChildId ren = w.seed.Child("練馬 れん", w.hikari1);  // no card
  auto [sato, csrf] = w.Session("sato");
  const std::string who = "csrf=" + csrf + "&child=" + w.sakura.ToString();
  // Refused in words: no direction, no reason, a time still to come; another facility's
  // child is 403 and audited; a child without a card cannot be recorded.
  CHECK(w.Send(http::verb::post, "/board/taps", sato, who + "&time=14%3A40&note=x").result() ==
        http::status::bad_request);
  CHECK(w.Send(http::verb::post, "/board/taps", sato, who + "&direction=arrival&time=14%3A40&note=")
            .result() == http::status::bad_request);
  Response future =
      w.Send(http::verb::post, "/board/taps", sato, who + "&direction=arrival&time=15%3A30&note=x");
  CHECK(future.result() == http::status::bad_request);
  CHECK(future.body().find("これからの時刻は記録できません") != std::string::npos);
  CHECK(w.Send(http::verb::post, "/board/taps", sato,
               "csrf=" + csrf + "&child=" + w.haruto.ToString() +
                   "&direction=arrival&time=14%3A40&note=x")
            .result() == http::status::forbidden);
  CHECK(
      w.Send(http::verb::post, "/board/taps", sato,
             "csrf=" + csrf + "&child=" + ren.ToString() + "&direction=arrival&time=14%3A40&note=x")
          .result() == http::status::conflict);
  // Without the session's token nothing is recorded.
  CHECK(w.Send(http::verb::post, "/board/taps", sato,
               "csrf=" + std::string(64, '0') + "&child=" + w.sakura.ToString() +
                   "&direction=arrival&time=14%3A40&note=x")
            .result() == http::status::forbidden);

  Response res = w.Send(http::verb::post, "/board/taps", sato,
                        who + "&direction=arrival&time=14%3A40&note=" +
                            "%E3%82%AB%E3%83%BC%E3%83%89%E5%BF%98%E3%82%8C");  // カード忘れ
  REQUIRE(res.result() == http::status::see_other);
  CHECK(Header(res, "Location") == "/board?done=arrival");
  auto taps = store::InRead(*w.store, [&](store::ReadTxn& t) {
                return t.attendance().TapsOfChild(w.sakura, kT0 - std::chrono::hours(2), kT0);
              }).value();
  REQUIRE(taps.size() == 2);
  const store::TapRecord& recorded = taps.back();
  CHECK(recorded.recorded_by == "staff:sato");
  CHECK(recorded.note == "カード忘れ");
  CHECK(recorded.corrected_at == T("2026-12-01T14:40:00+09:00"));
  CHECK(recorded.direction == Direction::kEntry);
  CHECK(recorded.reason == Reason::kArrival);
  auto rows =
      store::InRead(*w.store, [&](store::ReadTxn& t) { return t.outbox().List(w.sakura); }).value();
  REQUIRE(rows.back().message.kind == store::OutboxKind::kArrival);
  CHECK(rows.back().message.staff_recorded);
  CHECK(rows.back().message.tap_at == T("2026-12-01T14:40:00+09:00"));
  CHECK(Audited(w, "tap.recorded", "staff:sato"));
  // The board and the child's page show it; a second recording is numbered after the first.
  Response board = w.Send(http::verb::get, "/board?done=arrival", sato);
  CHECK(board.body().find("記録しました: 入室（通知済み）") != std::string::npos);
  CHECK(board.body().find("<td class=\"state\">在室</td><td>14:40</td>") != std::string::npos);
  CHECK(w.Send(http::verb::get, "/children/" + w.sakura.ToString(), sato)
            .body()
            .find("職員が記録（staff:sato: カード忘れ）") != std::string::npos);
  REQUIRE(w.Send(http::verb::post, "/board/taps", sato,
                 who + "&direction=departure&time=14%3A55&note=x")
              .result() == http::status::see_other);
  auto after = store::InRead(*w.store, [&](store::ReadTxn& t) {
                 return t.attendance().TapsOfChild(w.sakura, kT0 - std::chrono::hours(2), kT0);
               }).value();
  REQUIRE(after.size() == 3);
  CHECK(after.back().agent == recorded.agent);
  CHECK(after.back().seq == recorded.seq + 1);
  CHECK(after.back().reason == Reason::kDeparture);
}

TEST_CASE("console: an absence recorded from a phone call, the board shows absent and late",
          "[console]") {
  World w;
  ChildId ren = w.seed.Child("練馬 れん", w.hikari1);
  services::Facilities facilities(*w.store, fakes::FixedJst());
  store::Facility f = facilities.ByCode("hikari1").value();
  f.expected_arrival_by = LocalTime::HM(14, 45);  // kT0 is 15:00
  REQUIRE(facilities.Update(f, Actor{"operator-1", kT0}).ok());
  auto [abe, csrf] = w.Session("abe");
  const std::string page = "/children/" + ren.ToString();
  CHECK(w.Send(http::verb::get, page, abe).body().find("欠席を記録する") != std::string::npos);
  CHECK(
      w.Send(http::verb::post, page + "/absence", abe, "csrf=" + csrf + "&from=12%2F01").result() ==
      http::status::bad_request);
  Response res = w.Send(http::verb::post, page + "/absence", abe,
                        "csrf=" + csrf + "&from=2026-12-01&to=&reason=%E9%80%9A%E9%99%A2");
  REQUIRE(res.result() == http::status::see_other);
  CHECK(Header(res, "Location") == page + "?done=absence");
  CHECK(Audited(w, "child.absence", "staff:abe"));
  Response shown = w.Send(http::verb::get, page + "?done=absence", abe);
  CHECK(shown.body().find("欠席を記録しました") != std::string::npos);
  CHECK(shown.body().find("<td>2026-12-01</td><td>通院</td><td>staff:abe</td>") !=
        std::string::npos);
  // The auditor may not; a facility account may for its own children.
  CHECK(w.Send(http::verb::get, page, w.Login("kanno")).result() == http::status::forbidden);

  // sakura expected, not arrived by 14:45 (the stored tap has no day): late; ren absent.
  auto [sato, sato_csrf] = w.Session("sato");
  const std::string board = w.Send(http::verb::get, "/board", sato).body();
  CHECK(board.find("<td class=\"state\">欠席</td>") != std::string::npos);
  CHECK(
      board.find("<td class=\"state\">未到着（予定時刻を過ぎています）</td><td>14:45 まで</td>") !=
      std::string::npos);
  CHECK(board.find("来所予定 14:45 まで") != std::string::npos);
  CHECK(board.find("保護者にもメール") == std::string::npos);
  // Where the ward lets guardians be mailed, the board says so.
  f.notify_not_arrived = true;
  REQUIRE(facilities.Update(f, Actor{"operator-1", kT0}).ok());
  CHECK(w.Send(http::verb::get, "/board", sato)
            .body()
            .find("来所予定 14:45 まで（未到着は保護者にもメールでお知らせします）") !=
        std::string::npos);
}

TEST_CASE("console: the auditor filters the audit log by text and date", "[console]") {
  World w;
  w.Send(http::verb::get, "/children/" + w.haruto.ToString(), w.Login("sato"));  // denied
  const std::string kanno = w.Login("kanno");
  const std::string all = w.Send(http::verb::get, "/audit", kanno).body();
  CHECK(all.find("<td>staff.login</td>") != std::string::npos);
  const std::string denied = w.Send(http::verb::get, "/audit?q=console.denied", kanno).body();
  CHECK(denied.find("<td>console.denied</td>") != std::string::npos);
  CHECK(denied.find("<td>staff.login</td>") == std::string::npos);
  CHECK(denied.find("value=\"console.denied\"") != std::string::npos);  // the form keeps it
  const std::string later = w.Send(http::verb::get, "/audit?since=2026-12-02", kanno).body();
  CHECK(later.find("<td>console.denied</td>") == std::string::npos);
}
}  // namespace
}  // namespace anshin::console

// Mailer tests: the real SQLite store in a temp dir, a recording fake transport, a fake clock.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "common/mail/mime.hpp"
#include "common/sys/sys.hpp"
#include "notify-server/agent_api.hpp"
#include "notify-server/mail/mail_config.hpp"
#include "notify-server/mail/mailer.hpp"
#include "notify-server/mail/template_files.hpp"
#include "notify-server/mail/verification_page.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/fake_clock.hpp"
#include "tests/fakes/fake_mail_transport.hpp"
#include "tests/fakes/faulty_store.hpp"
#include "tests/fakes/seed.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::server::mail {
namespace {

using store::OutboxState;
using store::SendResult;

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

constexpr char kClient[] = "192.0.2.10";

MailConfig TestConfig() {
  MailConfig c;
  c.from = "noreply@kids.example.jp";
  c.from_name = "キッズ安心メール";
  c.message_id_domain = "kids.example.jp";
  c.retry_min = Millis(1000);
  c.retry_max = Millis(8000);
  c.max_age = Millis(3600'000);
  c.batch_size = 64;
  c.public_url = "https://kids.example.jp";
  return c;
}

// Zones by name for the monthly test: Tokyo +09:00, Berlin +01:00 (December), UTC otherwise.
Result<std::shared_ptr<const TimeZone>> TestZone(const std::string& name) {
  const int offset = name == "Asia/Tokyo" ? 9 * 3600 : name == "Europe/Berlin" ? 3600 : 0;
  return std::make_shared<const TimeZone>(TimeZone::Fixed(name, offset));
}

struct Fixture {
  fakes::TempDir dir{"mailer-test"};
  std::unique_ptr<store::Store> real = [this] {
    store::SqliteOptions o;
    o.path = dir / "anshin.db";
    o.synchronous = sqlite::SyncMode::kNormal;
    return std::unique_ptr<store::Store>(store::SqliteStore::Open(o).value());
  }();
  fakes::FaultyStore store{*real};  // fails only when a test asks
  fakes::FakeClock clock{T("2026-11-26T15:02:00+09:00")};
  fakes::FakeMailTransport transport;
  store::Actor who{"tester", T("2026-11-26T09:00:00+09:00")};
  fakes::Seed seed{*real, who};
  FacilityId facility = seed.Facility("hikari-1", "光が丘第一学童クラブ");
  ChildId child = AddChild("練馬 さくら");

  ChildId AddChild(const std::string& name) { return seed.Child(name, facility); }

  GuardianId Guardian(const std::string& email, store::Charset charset = store::Charset::kUtf8,
                      std::optional<ChildId> of = std::nullopt) {
    store::Guardian g;
    g.child = of.value_or(child);
    g.email = email;
    g.charset = charset;
    services::VerificationTicket t = seed.guardians.Add(g, who).value();
    REQUIRE(seed.guardians.VerifyByCode(t.guardian, t.code, who).ok());
    // Drop the verification mail so tests see only what they queue.
    REQUIRE(store::InWrite(*real, [&](store::WriteTxn& txn) -> Status {
              ANSHIN_ASSIGN_OR_RETURN(auto rows, txn.outbox().List(std::nullopt));
              for (const auto& row : rows) {
                if (row.message.kind == store::OutboxKind::kVerification &&
                    row.state == OutboxState::kQueued) {
                  ANSHIN_RETURN_IF_ERROR(txn.outbox().RecordAttempt(
                      SendResult{row.id, t.guardian, SendResult::Outcome::kSent, who.at, 250,
                                 "250 setup", "", std::nullopt}));
                }
              }
              return Status::Ok();
            }).ok());
    return t.guardian;
  }

  // `n` verified guardians, of `n` children: a guardian's mail is claimed one row at a time (in
  // order), so tests of batches spread their messages over guardians.
  std::vector<GuardianId> Guardians(int n) {
    std::vector<GuardianId> gs;
    for (int i = 0; i < n; ++i) {  // a child each: a child has few guardians
      ChildId c = AddChild("テスト " + std::to_string(i));
      gs.push_back(Guardian("p" + std::to_string(i) + "@example.jp", store::Charset::kUtf8, c));
    }
    return gs;
  }

  std::int64_t Queue(GuardianId g, store::OutboxKind kind, TimePoint at, bool late = false,
                     std::optional<TimePoint> arrival_at = std::nullopt,
                     std::optional<ChildId> of = std::nullopt) {
    store::OutboxMessage m;
    m.kind = kind;
    m.guardian = g;
    m.child = of.value_or(child);
    m.facility = facility;
    m.tap_at = at;
    m.arrival_at = arrival_at;
    m.late = late;
    m.created_at = clock.Now();
    return store::InWrite(*real, [&](store::WriteTxn& txn) { return txn.outbox().Insert(m); })
        .value();
  }

  std::vector<store::OutboxRow> Rows() {
    return store::InRead(*real, [](store::ReadTxn& t) { return t.outbox().List(std::nullopt); })
        .value();
  }
  store::OutboxRow Row(std::int64_t id) {
    for (const auto& r : Rows()) {
      if (r.id == id) return r;
    }
    FAIL("no outbox row " << id);
    return {};
  }
  std::vector<store::SendLogEntry> SendLog(std::int64_t id) {
    return store::InRead(*real, [&](store::ReadTxn& t) { return t.outbox().SendLog(id); }).value();
  }
  store::OutboxStats Stats() {
    return store::InRead(*real, [&](store::ReadTxn& t) { return t.outbox().Stats(clock.Now()); })
        .value();
  }
  store::Guardian GuardianRow(GuardianId id) { return seed.guardians.Get(id).value(); }

  std::unique_ptr<Mailer> MakeMailer(MailConfig config = TestConfig()) {
    return std::make_unique<Mailer>(config, anshin::mail::TemplateSet::Defaults(), store, transport,
                                    clock, TestZone, MailerOptions{Millis(20), 42});
  }
};

struct Decoded {
  std::map<std::string, std::string> headers;
  std::string body;
};

// Splits a rendered message; decodes a base64 UTF-8 body.
Decoded Decode(const std::string& data) {
  Decoded d;
  std::size_t end = data.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  std::string head = data.substr(0, end);
  std::size_t pos = 0;
  std::string last;
  while (pos <= head.size()) {
    std::size_t nl = head.find("\r\n", pos);
    std::string line = head.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!line.empty() && line[0] == ' ') {
      d.headers[last] += line;
    } else {
      last = line.substr(0, line.find(':'));
      d.headers[last] = line.substr(line.find(':') + 2);
    }
    if (nl == std::string::npos) break;
    pos = nl + 2;
  }
  std::string raw = data.substr(end + 4);
  if (d.headers["Content-Transfer-Encoding"] == "base64") {
    d.body = anshin::mail::Base64Decode(raw).value();
  } else {
    d.body = raw;
  }
  return d;
}

TEST_CASE("queued notices are sent and recorded with the relay's reply", "[mail]") {
  Fixture fx;
  GuardianId g = fx.Guardian("mama@example.jp");
  std::int64_t id = fx.Queue(g, store::OutboxKind::kArrival, T("2026-11-26T15:02:00+09:00"));
  auto mailer = fx.MakeMailer();
  CHECK(mailer->RunOnce().value() == 1);
  CHECK(mailer->RunOnce().value() == 0);

  auto sent = fx.transport.accepted();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].to == "mama@example.jp");
  CHECK(sent[0].from == "noreply@kids.example.jp");
  CHECK(sent[0].id == id);
  Decoded d = Decode(sent[0].data);
  CHECK(d.headers["To"] == "mama@example.jp");
  CHECK(d.headers["Content-Type"] == "text/plain; charset=UTF-8");
  CHECK(d.body.starts_with(
      "練馬 さくらさんが11月26日 15:02に光が丘第一学童クラブに来館しました。\r\n"));
  CHECK(d.headers["Date"] == "Thu, 26 Nov 2026 15:02:00 +0900");

  store::OutboxRow row = fx.Row(id);
  CHECK(row.state == OutboxState::kSent);
  CHECK(row.relay_reply.starts_with("250 2.0.0 Ok"));
  CHECK(row.message_id == d.headers["Message-ID"]);
  CHECK(row.message_id.ends_with("@kids.example.jp>"));
  auto log = fx.SendLog(id);
  REQUIRE(log.size() == 1);
  CHECK(log[0].result == "sent");
  CHECK(log[0].smtp_code == 250);
}

TEST_CASE("4xx is retried with growing backoff until accepted", "[mail]") {
  Fixture fx;
  GuardianId g = fx.Guardian("papa@example.jp");
  std::int64_t id = fx.Queue(g, store::OutboxKind::kDeparture, T("2026-11-26T18:30:00+09:00"));
  fx.transport.Refuse("papa@example.jp", 451, 2);
  auto mailer = fx.MakeMailer();

  REQUIRE(mailer->RunOnce().value() == 1);
  store::OutboxRow row = fx.Row(id);
  CHECK(row.state == OutboxState::kRetrying);
  Millis wait1 = row.next_attempt_at - fx.clock.Now();
  CHECK(wait1 >= Millis(500));
  CHECK(wait1 <= Millis(1000));
  CHECK(mailer->RunOnce().value() == 0);  // not due yet

  fx.clock.Advance(wait1);
  REQUIRE(mailer->RunOnce().value() == 1);
  row = fx.Row(id);
  CHECK(row.state == OutboxState::kRetrying);
  Millis wait2 = row.next_attempt_at - fx.clock.Now();
  CHECK(wait2 >= Millis(1000));
  CHECK(wait2 <= Millis(2000));

  fx.clock.Advance(wait2);
  REQUIRE(mailer->RunOnce().value() == 1);
  CHECK(fx.Row(id).state == OutboxState::kSent);
  auto log = fx.SendLog(id);
  REQUIRE(log.size() == 3);
  CHECK(log[0].result == "retry");
  CHECK(log[0].smtp_code == 451);
  CHECK(log[1].result == "retry");
  CHECK(log[2].result == "sent");
  CHECK(fx.transport.accepted().size() == 1);
  CHECK_FALSE(fx.GuardianRow(g).bouncing);
}

TEST_CASE("5xx fails the message and marks the address bouncing", "[mail]") {
  Fixture fx;
  GuardianId g = fx.Guardian("typo@example.jp");
  std::int64_t id = fx.Queue(g, store::OutboxKind::kArrival, T("2026-11-26T15:02:00+09:00"));
  fx.transport.Refuse("typo@example.jp", 550, -1);
  auto mailer = fx.MakeMailer();
  REQUIRE(mailer->RunOnce().value() == 1);
  store::OutboxRow row = fx.Row(id);
  CHECK(row.state == OutboxState::kFailed);
  CHECK(row.last_error.find("550") != std::string::npos);
  CHECK(fx.GuardianRow(g).bouncing);
  fx.clock.Advance(Millis(3600'000));
  CHECK(mailer->RunOnce().value() == 0);  // never retried
  REQUIRE(fx.SendLog(id).size() == 1);
  CHECK(mailer->MetricsText().find("anshin_mailer_failed_total 1") != std::string::npos);
}

TEST_CASE("temporary failures give up after max_age without marking the address", "[mail]") {
  Fixture fx;
  GuardianId g = fx.Guardian("slow@example.jp");
  std::int64_t id = fx.Queue(g, store::OutboxKind::kArrival, T("2026-11-26T15:02:00+09:00"));
  fx.transport.Refuse("slow@example.jp", 421, -1);
  MailConfig config = TestConfig();
  config.max_age = Millis(60'000);
  auto mailer = fx.MakeMailer(config);
  int attempts = 0;
  while (fx.Row(id).state != OutboxState::kFailed && attempts < 100) {
    attempts += mailer->RunOnce().value();
    fx.clock.Advance(Millis(8000));
  }
  CHECK(fx.Row(id).state == OutboxState::kFailed);
  CHECK(fx.Row(id).last_error.starts_with("gave up after mail.max_age"));
  CHECK(attempts >= 5);
  CHECK(attempts <= 70);
  CHECK_FALSE(fx.GuardianRow(g).bouncing);
}

TEST_CASE("relay down: the queue grows, then drains by itself", "[mail]") {
  Fixture fx;
  std::vector<GuardianId> gs = fx.Guardians(10);
  for (int i = 0; i < 10; ++i)
    fx.Queue(gs[i], store::OutboxKind::kArrival, T("2026-11-26T15:02:00+09:00") + Millis(i * 1000));
  fx.transport.SetDown(true);
  auto mailer = fx.MakeMailer();
  CHECK(mailer->RunOnce().value() == 10);
  auto stats = fx.Stats();
  CHECK(stats.depth == 10);
  CHECK(stats.retrying == 10);
  CHECK(OutboxMetricsText(*fx.real, fx.clock.Now()).find("anshin_outbox_depth 10\n") !=
        std::string::npos);
  CHECK(mailer->MetricsText().find("outbox") == std::string::npos);  // counted once, elsewhere
  fx.transport.SetDown(false);
  fx.clock.Advance(Millis(1000));
  CHECK(mailer->RunOnce().value() == 10);
  stats = fx.Stats();
  CHECK(stats.depth == 0);
  CHECK(stats.sent == 10 + 10);  // + the guardians' verification mails
}

TEST_CASE("a crash after the relay accepted and before the commit duplicates one batch only",
          "[mail]") {
  Fixture fx;
  std::vector<GuardianId> gs = fx.Guardians(100);
  std::set<std::int64_t> ids;
  for (int i = 0; i < 100; ++i)
    ids.insert(fx.Queue(gs[i], store::OutboxKind::kArrival, T("2026-11-26T15:02:00+09:00")));
  {
    auto mailer = fx.MakeMailer();  // batch_size 64
    auto results = mailer->SendRound();
    REQUIRE(results.ok());
    CHECK(results->size() == 64);
    // The process dies here: the relay has the 64 messages, the store still says "sending".
  }
  CHECK(fx.Stats().sending == 64);
  auto mailer = fx.MakeMailer();
  REQUIRE(mailer->Start().ok());  // requeues the 64
  mailer->Notify();
  for (int i = 0; i < 500 && fx.Stats().depth > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  mailer->Stop();
  CHECK(fx.Stats().sent == 100 + 100);  // + verifications

  std::map<std::int64_t, int> deliveries;
  std::map<std::int64_t, std::set<std::string>> message_ids;
  for (const auto& m : fx.transport.accepted()) {
    ++deliveries[m.id];
    message_ids[m.id].insert(Decode(m.data).headers["Message-ID"]);
  }
  int duplicates = 0;
  for (std::int64_t id : ids) {
    REQUIRE(deliveries.count(id) == 1);
    duplicates += deliveries[id] - 1;
    CHECK(message_ids[id].size() == 1);  // the duplicate carries the same Message-ID
  }
  CHECK(duplicates == 64);
}

TEST_CASE("a started mailer records each message sent the moment the relay accepts it", "[mail]") {
  // What a kill -9 can duplicate is what the relay accepted and the store does not say sent:
  // here, while the rest of the batch is still on the wire, the first three are recorded.
  Fixture fx;
  std::vector<GuardianId> gs = fx.Guardians(10);
  for (int i = 0; i < 10; ++i)
    fx.Queue(gs[i], store::OutboxKind::kArrival, T("2026-11-26T15:02:00+09:00"));
  const int total = fx.Stats().depth;
  const auto sent_before = fx.Stats().sent;
  const auto accepted_before = fx.transport.accepted().size();
  fx.transport.PauseAfter(3);
  auto mailer = fx.MakeMailer();  // batch_size 64: one Send() for all
  REQUIRE(mailer->Start().ok());
  mailer->Notify();
  auto wait_for = [](auto pred) {
    for (int i = 0; i < 500 && !pred(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return pred();
  };
  REQUIRE(wait_for([&] { return fx.transport.paused(); }));
  CHECK(wait_for([&] { return fx.Stats().sent == sent_before + 3; }));
  CHECK(fx.Stats().sending == total - 3);
  fx.transport.Resume();
  CHECK(wait_for([&] { return fx.Stats().depth == 0; }));
  mailer->Stop();
  CHECK(fx.Stats().sent == sent_before + total);
  CHECK(fx.transport.accepted().size() == accepted_before + total);
}

TEST_CASE("started mailer drains a large queue with group commits", "[mail]") {
  Fixture fx;
  std::vector<GuardianId> gs = fx.Guardians(64);
  for (int i = 0; i < 1000; ++i)
    fx.Queue(gs[i % 64], store::OutboxKind::kArrival, T("2026-11-26T15:02:00+09:00"));
  fx.transport.FailCall(2);  // one batch meets a relay hiccup
  auto mailer = fx.MakeMailer();
  REQUIRE(mailer->Start().ok());
  CHECK(mailer->Start().code() == Status::Code::kFailedPrecondition);
  for (int i = 0; i < 1000; ++i) {
    auto st = fx.Stats();
    if (st.depth == 0) break;
    // A retrying row holds its guardian's later rows queued: time moves on while it waits.
    if (st.retrying > 0 && st.sending == 0) fx.clock.Advance(Millis(1000));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  mailer->Stop();
  mailer->Stop();
  CHECK(fx.Stats().sent == 1000 + 64);  // + verifications
  std::set<std::int64_t> unique;
  for (const auto& m : fx.transport.accepted()) unique.insert(m.id);
  CHECK(unique.size() == 1000);
  CHECK(fx.transport.accepted().size() == 1000);
}

TEST_CASE("late, inferred and correction notices reach the guardian as such", "[mail]") {
  Fixture fx;
  GuardianId g = fx.Guardian("mama@example.jp");
  fx.Queue(g, store::OutboxKind::kInferredDeparture, T("2026-11-26T17:00:00+09:00"));
  fx.Queue(g, store::OutboxKind::kCorrection, T("2026-11-26T18:40:00+09:00"), false,
           T("2026-11-26T17:00:00+09:00"));
  fx.Queue(g, store::OutboxKind::kArrival, T("2026-11-26T14:50:00+09:00"), true);
  auto mailer = fx.MakeMailer();
  for (int round = 0; round < 3; ++round) REQUIRE(mailer->RunOnce().value() == 1);  // one at a time
  auto sent = fx.transport.accepted();
  REQUIRE(sent.size() == 3);  // in the order queued
  CHECK(Decode(sent[0].data).body.find("かざし忘れ") != std::string::npos);
  CHECK(Decode(sent[1].data).body.find("17:00") != std::string::npos);
  CHECK(Decode(sent[1].data).body.find("訂正") != std::string::npos);
  CHECK(Decode(sent[2].data).body.find("遅れて送信") != std::string::npos);
  CHECK(Decode(sent[2].data).body.find("14:50") != std::string::npos);
  // The late arrival is dated by its tap, before the on-time mails of later taps.
  CHECK(Decode(sent[2].data).headers["Date"] == "Thu, 26 Nov 2026 14:50:00 +0900");
  CHECK(Decode(sent[0].data).headers["Date"] != "Thu, 26 Nov 2026 14:50:00 +0900");
}

TEST_CASE("a not-arrived mail reaches the guardian with the time the child was expected by",
          "[mail]") {
  Fixture fx;
  GuardianId g = fx.Guardian("mama@example.jp");
  const std::int64_t id =
      fx.Queue(g, store::OutboxKind::kNotArrived, T("2026-11-26T16:00:00+09:00"));
  auto mailer = fx.MakeMailer();
  REQUIRE(mailer->RunOnce().value() == 1);
  auto sent = fx.transport.accepted();
  REQUIRE(sent.size() == 1);
  const Decoded d = Decode(sent[0].data);
  CHECK(d.body.find("練馬 さくらさんは本日（11月26日）光が丘第一学童クラブに来館の予定ですが、"
                    "16:00までに来館の記録がありません。") != std::string::npos);
  CHECK(fx.Row(id).state == store::OutboxState::kSent);
}

TEST_CASE("the footer gives the configured call-centre phone number", "[mail]") {
  Fixture fx;
  GuardianId g = fx.Guardian("mama@example.jp");
  fx.Queue(g, store::OutboxKind::kArrival, T("2026-11-26T15:02:00+09:00"));
  MailConfig config = TestConfig();
  config.callcenter_phone = "0120-123-456";
  auto mailer = fx.MakeMailer(config);
  REQUIRE(mailer->RunOnce().value() == 1);
  auto sent = fx.transport.accepted();
  REQUIRE(sent.size() == 1);
  CHECK(Decode(sent[0].data).body.find("コールセンター（電話 0120-123-456）") != std::string::npos);
}

TEST_CASE("ISO-2022-JP guardians get 7bit mail, unrepresentable names fall back to UTF-8",
          "[mail]") {
  Fixture fx;
  GuardianId g = fx.Guardian("old-phone@ezweb.ne.jp", store::Charset::kIso2022Jp);
  fx.Queue(g, store::OutboxKind::kArrival, T("2026-11-26T15:02:00+09:00"));
  ChildId other = fx.AddChild("髙橋 ① はな");
  GuardianId h = fx.Guardian("old2@ezweb.ne.jp", store::Charset::kIso2022Jp, other);
  fx.Queue(h, store::OutboxKind::kArrival, T("2026-11-26T15:03:00+09:00"), false, std::nullopt,
           other);
  auto mailer = fx.MakeMailer();
  REQUIRE(mailer->RunOnce().value() == 2);
  auto sent = fx.transport.accepted();
  REQUIRE(sent.size() == 2);
  Decoded a = Decode(sent[0].data);
  CHECK(a.headers["Content-Type"] == "text/plain; charset=ISO-2022-JP");
  CHECK(a.headers["Subject"].starts_with("=?ISO-2022-JP?B?"));
  Decoded b = Decode(sent[1].data);
  CHECK(b.headers["Content-Type"] == "text/plain; charset=UTF-8");
  CHECK(b.body.find("髙橋 ① はなさんが") != std::string::npos);
}

TEST_CASE("verification mail carries code and link, the page confirms with POST only", "[mail]") {
  Fixture fx;
  store::Guardian g;
  g.child = fx.child;
  g.email = "new@example.jp";
  services::VerificationTicket t = fx.seed.guardians.Add(g, fx.who).value();
  fx.clock.Set(fx.who.at + Millis(60'000));
  auto mailer = fx.MakeMailer();
  REQUIRE(mailer->RunOnce().value() == 1);
  auto sent = fx.transport.accepted();
  REQUIRE(sent.size() == 1);
  Decoded d = Decode(sent[0].data);
  CHECK(d.body.find("確認コード: " + t.code) != std::string::npos);
  std::string link = "https://kids.example.jp/verify?token=" + t.link_token;
  CHECK(d.body.find(link) != std::string::npos);

  VerificationPage page(fx.seed.guardians, fx.clock);
  CHECK(VerificationPage::Owns("/verify?token=x"));
  CHECK_FALSE(VerificationPage::Owns("/v1/taps"));
  PageReply get = page.Handle("GET", "/verify?token=" + t.link_token, "", kClient);
  CHECK(get.status == 200);
  CHECK(get.content_type == "text/html; charset=utf-8");
  CHECK(get.body.find("name=\"token\" value=\"" + t.link_token + "\"") != std::string::npos);
  CHECK_FALSE(fx.GuardianRow(t.guardian).verified);  // GET changes nothing

  CHECK(page.Handle("GET", "/verify?token=<script>", "", kClient).status == 404);
  CHECK(page.Handle("PUT", "/verify", "", kClient).status == 405);
  PageReply post = page.Handle("POST", "/verify", "token=" + t.link_token, kClient);
  CHECK(post.status == 200);
  CHECK(post.body.find("確認が完了しました") != std::string::npos);
  CHECK(fx.GuardianRow(t.guardian).verified);
  CHECK(page.Handle("POST", "/verify", "token=" + t.link_token, kClient).status == 404);  // used
}

TEST_CASE("the page without a token takes the address and the code from the mail", "[mail]") {
  // The card letter's QR code opens /verify: no token on paper, the mailed code proves the
  // address. Siblings' guardians may share an address: the code finds the right one.
  Fixture fx;
  ChildId sibling = fx.AddChild("練馬 そら");
  store::Guardian g;
  g.child = fx.child;
  g.email = "Mama@Example.jp";
  services::VerificationTicket first = fx.seed.guardians.Add(g, fx.who).value();
  g.child = sibling;
  g.email = "mama@example.jp";
  services::VerificationTicket second = fx.seed.guardians.Add(g, fx.who).value();
  VerificationPage page(fx.seed.guardians, fx.clock);

  PageReply form = page.Handle("GET", "/verify", "", kClient);
  CHECK(form.status == 200);
  CHECK(form.body.find("name=\"email\"") != std::string::npos);
  CHECK(form.body.find("name=\"code\"") != std::string::npos);
  CHECK_FALSE(form.headers.empty());  // its CSP

  const std::string wrong = second.code == "000000" ? "111111" : "000000";
  PageReply bad = page.Handle("POST", "/verify", "email=mama%40example.jp&code=" + wrong, kClient);
  CHECK(bad.status == 400);
  PageReply unknown =
      page.Handle("POST", "/verify", "email=nobody%40example.jp&code=" + wrong, kClient);
  CHECK(unknown.status == 400);
  CHECK(unknown.body == bad.body);  // the page does not tell which addresses are registered
  CHECK(page.Handle("POST", "/verify", "email=mama%40example.jp&code=12ab", kClient).status == 400);

  PageReply ok =
      page.Handle("POST", "/verify", "email=MAMA%40example.jp&code=" + second.code, kClient);
  CHECK(ok.status == 200);
  CHECK(fx.GuardianRow(second.guardian).verified);
  CHECK_FALSE(fx.GuardianRow(first.guardian).verified);
  CHECK(page.Handle("POST", "/verify", "email=mama%40example.jp&code=" + first.code, kClient)
            .status == 200);
  CHECK(fx.GuardianRow(first.guardian).verified);

  // Wrong codes for one address are limited however many clients send them.
  store::Guardian h;
  h.child = fx.child;
  h.email = "papa@example.jp";
  services::VerificationTicket third = fx.seed.guardians.Add(h, fx.who).value();
  int limited = 0;
  for (int i = 0; i < 10; ++i) {
    PageReply r = page.Handle("POST", "/verify", "email=papa%40example.jp&code=" + wrong,
                              "198.51.100." + std::to_string(i + 1));
    if (r.status == 429) ++limited;
  }
  CHECK(limited > 0);
  CHECK_FALSE(fx.GuardianRow(third.guardian).verified);
}

TEST_CASE("verification links expire and failures are rate-limited", "[mail]") {
  Fixture fx;
  store::Guardian g;
  g.child = fx.child;
  g.email = "late@example.jp";
  services::VerificationTicket t = fx.seed.guardians.Add(g, fx.who).value();
  VerificationPage page(fx.seed.guardians, fx.clock);
  fx.clock.Set(t.expires_at + Millis(1));
  CHECK(page.Handle("POST", "/verify", "token=" + t.link_token, kClient).status == 410);
  int limited = 0;
  for (int i = 0; i < VerificationPage::kFailureBurst + 5; ++i) {
    if (page.Handle("POST", "/verify", "token=" + std::string(32, 'a'), kClient).status == 429)
      ++limited;
  }
  CHECK(limited >= 5);
  fx.clock.Advance(VerificationPage::kFailureRefill * 2);
  CHECK(page.Handle("POST", "/verify", "token=" + std::string(32, 'b'), kClient).status == 404);
}

// Issue 12, defect 4: one global bucket let any client shut verification for every guardian.
TEST_CASE("verification failures are limited per address and per token, not globally", "[mail]") {
  Fixture fx;
  store::Guardian g;
  g.child = fx.child;
  g.email = "b@example.jp";
  services::VerificationTicket b = fx.seed.guardians.Add(g, fx.who).value();
  VerificationPage page(fx.seed.guardians, fx.clock);
  const std::string attacker = "198.51.100.7";
  int limited = 0;
  for (int i = 0; i < VerificationPage::kFailureBurst + 10; ++i) {
    char guess[33];
    std::snprintf(guess, sizeof guess, "%032x", i);
    if (page.Handle("POST", "/verify", std::string("token=") + guess, attacker).status == 429) {
      ++limited;
    }
  }
  CHECK(limited == 10);  // the attacker's address is limited...
  // ...while guardian B, from another address, verifies at once.
  PageReply ok = page.Handle("POST", "/verify", "token=" + b.link_token, "203.0.113.5");
  CHECK(ok.status == 200);
  CHECK(fx.GuardianRow(b.guardian).verified);
  // An IPv6 client is limited by its /64: changing the interface id does not help.
  for (int i = 0; i < VerificationPage::kFailureBurst; ++i) {
    char guess[33];
    std::snprintf(guess, sizeof guess, "c%031x", i);
    (void)page.Handle("POST", "/verify", std::string("token=") + guess,
                      "2001:db8:1:2::" + std::to_string(i + 1));
  }
  CHECK(page.Handle("POST", "/verify", "token=" + std::string(32, 'd'), "2001:db8:1:2::ffff")
            .status == 429);
  CHECK(page.Handle("POST", "/verify", "token=" + std::string(32, 'd'), "2001:db8:1:3::1").status ==
        404);
  // One token hammered from many addresses is limited too.
  int token_limited = 0;
  for (int i = 0; i < VerificationPage::kTokenFailureBurst + 3; ++i) {
    if (page.Handle("POST", "/verify", "token=" + std::string(32, 'e'),
                    "192.0.2." + std::to_string(100 + i))
            .status == 429) {
      ++token_limited;
    }
  }
  CHECK(token_limited == 3);
  CHECK(VerificationPage::AddressKey("::ffff:192.0.2.1") == "192.0.2.1");
  CHECK(VerificationPage::AddressKey("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64");
}

TEST_CASE("verification pages carry a strict CSP and 405 carries Allow", "[mail]") {
  Fixture fx;
  VerificationPage page(fx.seed.guardians, fx.clock);
  auto header = [](const PageReply& r, const std::string& name) {
    for (const auto& [n, v] : r.headers) {
      if (n == name) return v;
    }
    return std::string();
  };
  PageReply get = page.Handle("GET", "/verify?token=" + std::string(32, 'a'), "", kClient);
  const std::string csp = header(get, "Content-Security-Policy");
  CHECK_THAT(csp, Catch::Matchers::StartsWith("default-src 'none'; style-src 'sha256-"));
  CHECK(csp.find("form-action 'self'") != std::string::npos);
  CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(csp.find("script-src") == std::string::npos);
  CHECK(get.body.find("<script") == std::string::npos);
  PageReply put = page.Handle("PUT", "/verify", "", kClient);
  CHECK(put.status == 405);
  CHECK(header(put, "Allow") == "GET, HEAD, POST");
}

TEST_CASE("the monthly test mail goes to verified addresses once a month when enabled", "[mail]") {
  Fixture fx;
  fx.Guardian("mama@example.jp");
  fx.Guardian("papa@example.jp");
  store::Guardian unverified;
  unverified.child = fx.child;
  unverified.email = "new@example.jp";
  REQUIRE(fx.seed.guardians.Add(unverified, fx.who).ok());
  CHECK(fx.MakeMailer()->EnqueueMonthlyTestIfDue(T("2026-12-01T10:05:00+09:00")).value() ==
        0);  // off

  MailConfig config = TestConfig();
  config.monthly_test = true;
  auto mailer = fx.MakeMailer(config);
  CHECK(mailer->EnqueueMonthlyTestIfDue(T("2026-12-01T09:59:00+09:00")).value() == 0);  // too early
  CHECK(mailer->EnqueueMonthlyTestIfDue(T("2026-12-02T10:05:00+09:00")).value() ==
        0);  // not the 1st
  CHECK(mailer->EnqueueMonthlyTestIfDue(T("2026-12-01T10:05:00+09:00")).value() == 2);
  CHECK(mailer->EnqueueMonthlyTestIfDue(T("2026-12-01T10:06:00+09:00")).value() == 0);  // done
  fx.clock.Set(T("2026-12-01T10:05:00+09:00"));
  REQUIRE(mailer->RunOnce().value() == 3);  // two tests + the unverified address's verification
  int tests = 0;
  for (const auto& m : fx.transport.accepted()) {
    Decoded d = Decode(m.data);
    if (d.body.find("月例テスト送信") != std::string::npos) {
      ++tests;
      CHECK(m.to != "new@example.jp");
      CHECK(d.body.find("12月1日 10:05") != std::string::npos);
    }
  }
  CHECK(tests == 2);
  CHECK(mailer->EnqueueMonthlyTestIfDue(T("2027-01-01T10:00:00+09:00")).value() == 2);
}

TEST_CASE("the monthly test mail is queued once per facility and month, restarts included",
          "[mail]") {
  // Defect: guarded per process, so a restart on the 1st mailed every guardian again.
  Fixture fx;
  fx.Guardian("mama@example.jp");
  MailConfig config = TestConfig();
  config.monthly_test = true;
  CHECK(fx.MakeMailer(config)->EnqueueMonthlyTestIfDue(T("2026-12-01T10:05:00+09:00")).value() ==
        1);
  // The server restarts: a new mailer, the same database.
  CHECK(fx.MakeMailer(config)->EnqueueMonthlyTestIfDue(T("2026-12-01T10:30:00+09:00")).value() ==
        0);
  int tests = 0;
  for (const auto& r : fx.Rows()) tests += r.message.kind == store::OutboxKind::kTest;
  CHECK(tests == 1);
}

TEST_CASE("the monthly test mail follows each facility's own zone", "[mail]") {
  // Defect: the first of the month was read in Asia/Tokyo for every facility.
  Fixture fx;
  fx.Guardian("tokyo@example.jp");
  store::Facility berlin;
  berlin.code = "berlin-1";
  berlin.name = "ベルリン日本人学童";
  berlin.tz_name = "Europe/Berlin";
  FacilityId berlin_id = fx.seed.facilities.Add(berlin, fx.who).value();
  ChildId far = fx.seed.Child("ミュラー ハナ", berlin_id);
  fx.Guardian("berlin@example.jp", store::Charset::kUtf8, far);
  MailConfig config = TestConfig();
  config.monthly_test = true;
  auto mailer = fx.MakeMailer(config);
  // 10:05 in Tokyo is 02:05 in Berlin: only the Tokyo facility is due.
  CHECK(mailer->EnqueueMonthlyTestIfDue(T("2026-12-01T10:05:00+09:00")).value() == 1);
  // 10:05 in Berlin (18:05 in Tokyo): now Berlin's.
  CHECK(mailer->EnqueueMonthlyTestIfDue(T("2026-12-01T10:05:00+01:00")).value() == 1);
  // Tokyo's 2nd of December has begun while Berlin is still on the 1st: nothing more.
  CHECK(mailer->EnqueueMonthlyTestIfDue(T("2026-12-01T23:00:00+01:00")).value() == 0);
  std::map<std::string, int> to;
  fx.clock.Set(T("2026-12-01T10:06:00+01:00"));
  REQUIRE(mailer->RunOnce().value() == 2);
  for (const auto& m : fx.transport.accepted()) ++to[m.to];
  CHECK(to["tokyo@example.jp"] == 1);
  CHECK(to["berlin@example.jp"] == 1);
}

TEST_CASE("messages the transport gave no outcome for are retried, not left sending", "[mail]") {
  // Defect: when the transport returned fewer outcomes than mails, the rest stayed `sending`
  // until the next restart.
  Fixture fx;
  std::vector<GuardianId> gs = fx.Guardians(5);
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(fx.Queue(gs[i], store::OutboxKind::kArrival, T("2026-11-26T15:02:00+09:00")));
  fx.transport.LoseOutcomes(1, 2);
  auto mailer = fx.MakeMailer();
  CHECK(mailer->RunOnce().value() == 5);
  CHECK(fx.Stats().sending == 0);
  CHECK(fx.Row(ids[0]).state == OutboxState::kSent);
  CHECK(fx.Row(ids[1]).state == OutboxState::kSent);
  for (int i = 2; i < 5; ++i) {
    CHECK(fx.Row(ids[i]).state == OutboxState::kRetrying);
    CHECK(fx.Row(ids[i]).last_error.find("no outcome") != std::string::npos);
  }
  fx.clock.Advance(Millis(1000));
  CHECK(mailer->RunOnce().value() == 3);
  CHECK(fx.Stats().sent == 5 + 5);  // + the verification mails
}

TEST_CASE("commit failure of send results: nothing is lost and the outcome is recorded later",
          "[mail]") {
  Fixture fx;
  std::vector<GuardianId> gs = fx.Guardians(10);
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 10; ++i)
    ids.push_back(
        fx.Queue(gs[i], store::OutboxKind::kArrival, T("2026-11-26T15:02:00+09:00") + Seconds(i)));
  auto mailer = fx.MakeMailer();
  {
    // One round by hand: the relay accepted everything, recording it fails.
    auto results = mailer->SendRound();
    REQUIRE(results.ok());
    REQUIRE(results->size() == 10);
    fx.store.FailCommit(1);
    CHECK(mailer->Commit(*results).code() == Status::Code::kUnavailable);
    for (std::int64_t id : ids) CHECK(fx.Row(id).state == OutboxState::kSending);  // not lost
    REQUIRE(mailer->Commit(*results).ok());  // the committer's retry
    for (std::int64_t id : ids) CHECK(fx.Row(id).state == OutboxState::kSent);
    for (std::int64_t id : ids) CHECK(fx.SendLog(id).size() == 1);  // one attempt, one entry
  }
  // The threaded mailer: the 3rd to 6th commits from here (after the requeue and the claim of
  // all ten: the next claim, the recording of their outcomes and whatever claims come next)
  // fail; the committer retries the recording.
  for (int i = 0; i < 10; ++i)
    fx.Queue(gs[i], store::OutboxKind::kDeparture, T("2026-11-26T18:02:00+09:00") + Seconds(i));
  fx.store.FailCommit(3, 4);
  REQUIRE(mailer->Start().ok());
  mailer->Notify();
  for (int i = 0; i < 500 && fx.Stats().sent < 30; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  mailer->Stop();
  CHECK(fx.store.failed_commits() == 1 + 4);
  CHECK(fx.Stats().sent == 20 + 10);  // + the verification mails
  CHECK(fx.Stats().depth == 0);
  CHECK(fx.transport.accepted().size() == 20);  // each sent once: only the recording was retried
  const std::string m = mailer->MetricsText();
  CHECK(m.find("anshin_mailer_commit_errors_total 0\n") == std::string::npos);
  CHECK(m.find("anshin_mailer_sent_total 20\n") != std::string::npos);
}

TEST_CASE("commit failure of a claim leaves the rows queued for the next round", "[mail]") {
  Fixture fx;
  GuardianId g = fx.Guardian("mama@example.jp");
  std::int64_t id = fx.Queue(g, store::OutboxKind::kArrival, T("2026-11-26T15:02:00+09:00"));
  auto mailer = fx.MakeMailer();
  fx.store.FailCommit(1);
  CHECK(mailer->RunOnce().status().code() == Status::Code::kUnavailable);
  CHECK(fx.Row(id).state == OutboxState::kQueued);
  CHECK(fx.transport.calls() == 0);
  CHECK(mailer->RunOnce().value() == 1);
  CHECK(fx.Row(id).state == OutboxState::kSent);
}

TEST_CASE("backoff grows exponentially with jitter and is capped", "[mail]") {
  Fixture fx;
  auto mailer = fx.MakeMailer();
  for (int i = 0; i < 50; ++i) {
    Millis b1 = mailer->Backoff(1);
    CHECK(b1 >= Millis(500));
    CHECK(b1 <= Millis(1000));
    Millis b3 = mailer->Backoff(3);
    CHECK(b3 >= Millis(2000));
    CHECK(b3 <= Millis(4000));
    Millis b30 = mailer->Backoff(30);
    CHECK(b30 >= Millis(4000));
    CHECK(b30 <= Millis(8000));
  }
}

TEST_CASE("template overrides are loaded at start-up and errors reported then", "[mail]") {
  fakes::TempDir dir{"templates"};
  CHECK(LoadTemplates("").ok());
  CHECK(!LoadTemplates(dir / "missing").ok());
  {
    std::ofstream(dir / "arrival.txt")
        << "Subject: 来館 {child}\n\n{child} さんが {time} に来ました。\n";
  }
  auto set = LoadTemplates(dir.path());
  REQUIRE(set.ok());
  Notice n;
  n.at = T("2026-11-26T15:02:00+09:00");
  auto text = anshin::mail::ComposeNotice(*set, n, "さくら", "クラブ",
                                          TimeZone::Fixed("Asia/Tokyo", 9 * 3600))
                  .value();
  CHECK(text.subject == "来館 さくら");
  { std::ofstream(dir / "departure.txt") << "Subject: x\n\n{code}\n"; }
  auto bad = LoadTemplates(dir.path());
  REQUIRE(!bad.ok());
  CHECK(bad.status().message().find("departure.txt") != std::string::npos);
  std::filesystem::remove(dir / "departure.txt");
  { std::ofstream(dir / "arival.txt") << "Subject: x\n\nbody\n"; }
  auto typo = LoadTemplates(dir.path());
  REQUIRE(!typo.ok());
  CHECK(typo.status().message().find("arival.txt") != std::string::npos);
}

TEST_CASE("the example templates in deploy/templates load and equal the built-in ones", "[mail]") {
  auto set = LoadTemplates(std::filesystem::path(ANSHIN_SOURCE_DIR) / "deploy" / "templates");
  REQUIRE(set.ok());
  Notice n;
  n.kind = NoticeKind::kCorrection;
  n.at = T("2026-11-26T18:31:00+09:00");
  n.arrival_at = T("2026-11-26T17:00:00+09:00");
  n.late = true;
  TimeZone tokyo = TimeZone::Fixed("Asia/Tokyo", 9 * 3600);
  CHECK(anshin::mail::ComposeNotice(*set, n, "さくら", "クラブ", tokyo).value() ==
        anshin::mail::ComposeNotice(anshin::mail::TemplateSet::Defaults(), n, "さくら", "クラブ",
                                    tokyo)
            .value());
  // Byte for byte, every kind (a kind added without its example file fails here).
  for (auto kind : anshin::mail::kAllTemplateKinds) {
    const std::string name(anshin::mail::TemplateKindName(kind));
    INFO(name);
    std::ifstream in(std::filesystem::path(ANSHIN_SOURCE_DIR) / "deploy" / "templates" /
                     (name + ".txt"));
    REQUIRE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str() == anshin::mail::DefaultTemplateText(kind));
  }
}

TEST_CASE("the [mail] table is read and checked", "[mail]") {
  fakes::TempDir dir{"mailcfg"};
  { std::ofstream(dir / "pw") << "s3cret\n"; }
  std::string toml =
      "[mail]\nrelay = \"smtps://relay.example.jp:465\"\nusername = \"anshin\"\n"
      "password_file = \"" +
      (dir / "pw").string() +
      "\"\nfrom = \"noreply@kids.example.jp\"\n"
      "connections = 8\nretry_min = \"10s\"\nretry_max = \"10m\"\nmax_age = \"2h\"\n"
      "public_url = \"https://kids.example.jp/\"\nmonthly_test = true\n";
  auto config = sys::Config::Parse(toml);
  REQUIRE(config.ok());
  auto mc = LoadMailConfig(*config);
  REQUIRE(mc.ok());
  CHECK(mc->relay == "smtps://relay.example.jp:465");
  CHECK(mc->password == "s3cret");
  CHECK(mc->message_id_domain == "kids.example.jp");
  CHECK(mc->connections == 8);
  CHECK(mc->retry_min == Millis(10'000));
  CHECK(mc->max_age == Millis(7200'000));
  CHECK(mc->public_url == "https://kids.example.jp");
  CHECK(mc->monthly_test);
  CHECK(mc->require_starttls);

  CHECK(!LoadMailConfig(sys::Config::Parse("[mail]\nstarttls = \"maybe\"\n").value()).ok());
  CHECK(!LoadMailConfig(sys::Config::Parse("[mail]\nrelay = \"http://x\"\n").value()).ok());
  CHECK(!LoadMailConfig(sys::Config::Parse("[mail]\nfrom = \"a@b.jp\\r\\nBcc: c@d.jp\"\n").value())
             .ok());
  CHECK(!LoadMailConfig(
             sys::Config::Parse("[mail]\nretry_min = \"1m\"\nretry_max = \"10s\"\n").value())
             .ok());
  ::unsetenv("ANSHIN_SMTP_PASSWORD");
  CHECK(!LoadMailConfig(sys::Config::Parse("[mail]\nusername = \"u\"\n").value()).ok());
  ::setenv("ANSHIN_SMTP_PASSWORD", "from-env", 1);
  auto env = LoadMailConfig(sys::Config::Parse("[mail]\nusername = \"u\"\n").value());
  REQUIRE(env.ok());
  CHECK(env->password == "from-env");
  ::unsetenv("ANSHIN_SMTP_PASSWORD");
}

}  // namespace
}  // namespace anshin::server::mail

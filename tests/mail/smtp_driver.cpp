// mail_smtp_driver: drives the real SMTP transport (and the mailer with the real SQLite store)
// for the contract tests in smtp_contract_test.py and for bench/mail. Prints JSON lines.
//
//   mail_smtp_driver transport --url smtp://127.0.0.1:P [--starttls none] [--ca-file F]
//       [--username U] (password from ANSHIN_SMTP_PASSWORD) --count N --to ADDR [--connections C]
//     -> one line per message {"id","kind","code","reply"}, then {"connections_opened":n}
//   mail_smtp_driver mailer --db FILE --url ... --count N --to ADDR [--deadline-ms D]
//       [--batch B] [--synchronous full|normal] [--started] [--guardians G]
//     -> queues N arrival notices for a verified guardian ADDR (spread over G guardians, ADDR
//        and ADDR with "+1".."+G-1" in its local part: a guardian's mail leaves one message at a
//        time, in order, so a throughput run needs many), runs the mailer until the outbox
//        is empty or the deadline passes, prints every outbox row with its send history and
//        {"bouncing":bool,"msgs_per_s":x}.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "common/mail/mime.hpp"
#include "common/mail/templates.hpp"
#include "notify-server/mail/curl_smtp_transport.hpp"
#include "notify-server/mail/mailer.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/seed.hpp"

namespace anshin::server::mail {
namespace {

const char* KindName(SendOutcome::Kind k) {
  switch (k) {
    case SendOutcome::Kind::kSent:
      return "sent";
    case SendOutcome::Kind::kTemporary:
      return "temporary";
    case SendOutcome::Kind::kPermanent:
      return "permanent";
  }
  return "?";
}

struct Args {
  std::string mode;
  SmtpOptions smtp;
  std::string starttls = "required";
  int count = 1;
  int guardians = 1;
  std::string to = "mama@example.jp";
  std::string db;
  long deadline_ms = 20'000;
  int batch = 64;
  std::string synchronous = "full";
  bool started = false;
  long timeout_ms = 5000;
};

int RunTransport(const Args& a) {
  auto transport = CurlSmtpTransport::Create(a.smtp);
  if (!transport.ok()) {
    std::cerr << transport.status().ToString() << "\n";
    return 2;
  }
  TimeZone tokyo = TimeZone::Fixed("Asia/Tokyo", 9 * 3600);
  anshin::mail::TemplateSet templates = anshin::mail::TemplateSet::Defaults();
  std::vector<OutgoingMail> mails;
  TimePoint now = ParseRfc3339("2026-11-26T15:02:00+09:00").value();
  for (int i = 0; i < a.count; ++i) {
    Notice n;
    n.at = now + Millis(i * 60'000);
    auto text =
        anshin::mail::ComposeNotice(templates, n, "練馬 さくら", "光が丘第一学童クラブ", tokyo)
            .value();
    anshin::mail::MailMessage m;
    m.from_address = "noreply@kids.example.jp";
    m.from_name = "キッズ安心メール";
    m.to = a.to;
    m.subject = text.subject;
    m.body = text.body;
    m.message_id =
        anshin::mail::MakeMessageId("t" + std::to_string(i + 1), "kids.example.jp").value();
    m.date = now;
    mails.push_back({i + 1, m.from_address, m.to, anshin::mail::RenderMessage(m, tokyo).value()});
  }
  for (const SendOutcome& o : (*transport)->Send(mails, {})) {
    std::cout << nlohmann::json{{"id", o.id},
                                {"kind", KindName(o.kind)},
                                {"code", o.smtp_code},
                                {"reply", o.reply}}
                     .dump()
              << std::endl;
  }
  std::cout << nlohmann::json{{"connections_opened", (*transport)->connections_opened()}}.dump()
            << std::endl;
  return 0;
}

int RunMailer(const Args& a) {
  SystemClock clock;
  store::SqliteOptions so;
  so.path = a.db;
  so.synchronous = a.synchronous == "normal" ? sqlite::SyncMode::kNormal : sqlite::SyncMode::kFull;
  auto opened = store::SqliteStore::Open(so);
  if (!opened.ok()) {
    std::cerr << opened.status().ToString() << "\n";
    return 2;
  }
  store::SqliteStore& st = **opened;
  fakes::Seed seed(st, store::Actor{"driver", clock.Now()});
  const std::string facility_name = "光が丘第一学童クラブ", child_name = "練馬 さくら";
  FacilityId facility = seed.Facility("hikari-1", facility_name);
  ChildId child = seed.Child(child_name, facility);
  GuardianId guardian = seed.VerifiedGuardian(child, a.to);
  std::vector<GuardianId> recipients{guardian};
  for (int i = 1; i < a.guardians; ++i) {
    const std::size_t at = a.to.find('@');
    ChildId sibling = seed.Child(child_name, facility);  // a child has few guardians
    recipients.push_back(seed.VerifiedGuardian(
        sibling, a.to.substr(0, at) + "+" + std::to_string(i) + a.to.substr(at)));
  }
  Status queued = store::InWrite(st, [&](store::WriteTxn& txn) -> Status {
    // The verification mail is not part of the run: mark it sent.
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::OutboxItem> verification,
                            txn.outbox().Claim(a.guardians + 10, clock.Now()));
    for (const store::OutboxItem& it : verification) {
      ANSHIN_RETURN_IF_ERROR(txn.outbox().RecordAttempt(
          store::SendResult{it.id, it.message.guardian, store::SendResult::Outcome::kSent,
                            clock.Now(), 250, "250 setup", "", std::nullopt}));
    }
    for (int i = 0; i < a.count; ++i) {
      store::OutboxMessage m;
      m.kind = store::OutboxKind::kArrival;
      m.guardian = recipients[static_cast<std::size_t>(i) % recipients.size()];
      m.child = child;
      m.facility = facility;
      m.tap_at = clock.Now();
      m.created_at = clock.Now();
      ANSHIN_RETURN_IF_ERROR(txn.outbox().Insert(m).status());
    }
    return Status::Ok();
  });
  if (!queued.ok()) {
    std::cerr << queued.ToString() << "\n";
    return 2;
  }
  auto stats = [&] {
    return store::InRead(st, [&](store::ReadTxn& t) { return t.outbox().Stats(clock.Now()); })
        .value();
  };

  MailConfig config;
  config.relay = a.smtp.url;
  config.from = "noreply@kids.example.jp";
  config.message_id_domain = "kids.example.jp";
  config.retry_min = Millis(200);
  config.retry_max = Millis(800);
  config.max_age = Millis(a.deadline_ms * 2);
  config.batch_size = a.batch;
  config.connections = a.smtp.connections;
  auto transport = CurlSmtpTransport::Create(a.smtp);
  if (!transport.ok()) {
    std::cerr << transport.status().ToString() << "\n";
    return 2;
  }
  Mailer mailer(config, anshin::mail::TemplateSet::Defaults(), st, **transport, clock,
                fakes::FixedJst(), MailerOptions{Millis(20), 0});
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::milliseconds(a.deadline_ms);
  if (a.started) {
    if (!mailer.Start().ok()) return 2;
    // Watch the mailer's own counters: polling the outbox would compete with the mailer.
    while (std::chrono::steady_clock::now() < deadline) {
      Mailer::Counters n = mailer.counters();
      if (n.sent + n.failed >= a.count) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    mailer.Stop();
  } else {
    while (std::chrono::steady_clock::now() < deadline && stats().depth > 0) {
      auto n = mailer.RunOnce();
      if (!n.ok()) {
        std::cerr << n.status().ToString() << "\n";
        return 2;
      }
      if (*n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int sent = 0;
  std::vector<store::OutboxRow> rows =
      store::InRead(st, [&](store::ReadTxn& t) { return t.outbox().List(child); }).value();
  for (const store::OutboxRow& row : rows) {
    if (row.message.kind != store::OutboxKind::kArrival) continue;
    if (row.state == store::OutboxState::kSent) ++sent;
    if (a.count > 50) continue;  // benchmarks only want the summary
    nlohmann::json log = nlohmann::json::array();
    std::vector<store::SendLogEntry> entries =
        store::InRead(st, [&](store::ReadTxn& t) { return t.outbox().SendLog(row.id); }).value();
    for (const store::SendLogEntry& e : entries) {
      log.push_back({{"result", e.result}, {"code", e.smtp_code}, {"reply", e.reply}});
    }
    std::cout << nlohmann::json{{"id", row.id},
                                {"state", store::kOutboxStateNames.Name(row.state)},
                                {"message_id", row.message_id},
                                {"relay_reply", row.relay_reply},
                                {"last_error", row.last_error},
                                {"log", log}}
                     .dump()
              << std::endl;
  }
  // The size of one rendered notice, so benchmarks can compare like with like.
  std::size_t message_bytes = 0;
  {
    TimeZone tokyo = TimeZone::Fixed("Asia/Tokyo", 9 * 3600);
    Notice n;
    n.at = clock.Now();
    auto text = anshin::mail::ComposeNotice(anshin::mail::TemplateSet::Defaults(), n, child_name,
                                            facility_name, tokyo)
                    .value();
    anshin::mail::MailMessage m;
    m.from_address = config.from;
    m.from_name = config.from_name;
    m.to = a.to;
    m.subject = text.subject;
    m.body = text.body;
    m.message_id =
        anshin::mail::MakeMessageId("1.1764136920000.anshin", config.message_id_domain).value();
    m.date = n.at;
    message_bytes = anshin::mail::RenderMessage(m, tokyo).value().size();
  }
  std::cout << nlohmann::json{{"bouncing", seed.guardians.Get(guardian).value().bouncing},
                              {"message_bytes", message_bytes},
                              {"sent", sent},
                              {"seconds", seconds},
                              {"msgs_per_s", sent / seconds},
                              {"connections_opened", (*transport)->connections_opened()}}
                   .dump()
            << std::endl;
  return 0;
}

}  // namespace
}  // namespace anshin::server::mail

int main(int argc, char** argv) {
  using anshin::server::mail::Args;
  Args a;
  CLI::App app{"Drives the SMTP transport / mailer for contract tests and benchmarks"};
  app.add_option("mode", a.mode, "transport | mailer")
      ->required()
      ->check(CLI::IsMember({"transport", "mailer"}));
  app.add_option("--url", a.smtp.url, "smtp://host:port or smtps://host:port")->required();
  app.add_option("--starttls", a.starttls, "required | none")
      ->check(CLI::IsMember({"required", "none"}));
  app.add_option("--ca-file", a.smtp.ca_file, "PEM file for the relay's certificate");
  app.add_option("--username", a.smtp.username, "AUTH user (password from ANSHIN_SMTP_PASSWORD)");
  app.add_option("--connections", a.smtp.connections, "parallel SMTP sessions");
  app.add_option("--count", a.count, "messages to send");
  app.add_option("--to", a.to, "recipient");
  app.add_option("--guardians", a.guardians, "guardians the notices are spread over (mailer mode)")
      ->check(CLI::Range(1, 10000));
  app.add_option("--db", a.db, "SQLite file (mailer mode)");
  app.add_option("--deadline-ms", a.deadline_ms, "stop the mailer after this long");
  app.add_option("--batch", a.batch, "mail.batch_size");
  app.add_option("--synchronous", a.synchronous, "full | normal");
  app.add_option("--timeout-ms", a.timeout_ms, "per-message time-out");
  app.add_flag("--started", a.started,
               "run the threaded mailer (Start/Stop) instead of RunOnce rounds");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_default_logger(spdlog::stderr_color_mt("driver"));  // stdout carries JSON only
  spdlog::set_level(spdlog::level::warn);
  a.smtp.require_starttls = a.starttls == "required";
  a.smtp.message_timeout = std::chrono::milliseconds(a.timeout_ms);
  a.smtp.connect_timeout = std::chrono::milliseconds(std::min(a.timeout_ms, 2000L));
  if (const char* pw = std::getenv("ANSHIN_SMTP_PASSWORD")) a.smtp.password = pw;
  return a.mode == "transport" ? anshin::server::mail::RunTransport(a)
                               : anshin::server::mail::RunMailer(a);
}

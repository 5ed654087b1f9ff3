// anshin-server: wires the central server together and runs it (DESIGN.md §2, docs/protocol.md).
//
// Reads the TOML configuration, opens the store and the ingest services, builds the agents'
// TLS context, starts both listeners, the closing-check scheduler and the mailer, and runs the
// network on one io_context thread until SIGTERM/SIGINT. Then it stops accepting, lets requests
// in flight finish (bounded by the request timeout), stops the scheduler and the mailer, commits
// what is queued and exits 0. Start-up failures print one line naming the key or file and exit 1
// (2 for command-line errors).
#include "notify-server/http/net.hpp"

#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/sys/instance_lock.hpp"
#include "common/sys/sys.hpp"
#include "common/time.hpp"
#include "notify-server/agent_api.hpp"
#include "notify-server/config_check.hpp"
#include "notify-server/console/console.hpp"
#include "notify-server/http/http_server.hpp"
#include "notify-server/http/server_config.hpp"
#include "notify-server/http/tls.hpp"
#include "notify-server/ingest/alert_checks.hpp"
#include "notify-server/ingest/allowlist_service.hpp"
#include "notify-server/ingest/closing_checks.hpp"
#include "notify-server/ingest/ingest_service.hpp"
#include "notify-server/mail/curl_smtp_transport.hpp"
#include "notify-server/mail/mail_config.hpp"
#include "notify-server/mail/mailer.hpp"
#include "notify-server/mail/relay_probe.hpp"
#include "notify-server/mail/staff_alert_mailer.hpp"
#include "notify-server/mail/template_files.hpp"
#include "notify-server/mail/verification_page.hpp"
#include "services/guardians.hpp"
#include "services/retention.hpp"
#include "store/open.hpp"

namespace anshin::server {
namespace {

constexpr Millis kClosingCheckPeriod{60'000};
// Staff alert mails go out within seconds of an alert (a lost card tapped at a club).
constexpr Millis kStaffAlertMailPeriod{3'000};

int Fail(const Status& s) {
  std::fprintf(stderr, "anshin-server: %s\n", s.ToString().c_str());
  return 1;
}

// Every minute, runs the closing checks (DESIGN.md §4 rule 8), the mailer's monthly test and
// the daily purge (services/retention.hpp) on `pool`, off the network thread.
asio::awaitable<void> RunScheduler(asio::steady_timer& timer, asio::thread_pool& pool,
                                   ingest::ClosingChecks& closing, ingest::AlertChecks& checks,
                                   mail::Mailer& mailer, const Clock& clock,
                                   std::function<void(TimePoint)> daily) {
  for (;;) {
    timer.expires_after(kClosingCheckPeriod);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;  // cancelled: shutting down
    asio::post(pool, [&closing, &checks, &mailer, &clock, daily] {
      const TimePoint now = clock.Now();
      daily(now);
      if (auto raised = checks.Run(now); !raised.ok()) {
        spdlog::warn("alert checks: {}", raised.status().ToString());
      }
      if (Result<int> queued = mailer.EnqueueMonthlyTestIfDue(now); !queued.ok()) {
        spdlog::warn("monthly test mail: {}", queued.status().ToString());
      }
      Result<std::vector<Alert>> alerts = closing.Run(now);
      if (!alerts.ok()) {
        spdlog::warn("closing checks: {}", alerts.status().ToString());
      } else if (!alerts->empty()) {
        spdlog::info("closing checks: {} no-departure alert(s) raised", alerts->size());
      }
    });
  }
}

// Every few seconds, the staff mail of each new alert (on `pool`, off the network thread).
asio::awaitable<void> RunStaffAlertMail(asio::steady_timer& timer, asio::thread_pool& pool,
                                        mail::StaffAlertMailer& staff_mail, const Clock& clock) {
  for (;;) {
    timer.expires_after(kStaffAlertMailPeriod);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    asio::post(pool, [&staff_mail, &clock] {
      if (Result<int> sent = staff_mail.Run(clock.Now()); !sent.ok()) {
        spdlog::warn("staff alert mail: {}", sent.status().ToString());
      }
    });
  }
}

Status WriteReadyFile(const std::filesystem::path& path, const HttpServer& server) {
  std::string json =
      "{\"agents_port\":" + std::to_string(server.agents_port()) +
      ",\"public_port\":" + std::to_string(server.public_port()) +
      (server.staff_port() != 0 ? ",\"staff_port\":" + std::to_string(server.staff_port())
                                : std::string()) +
      "}\n";
  return sys::WriteFileAtomic(path, json).WithContext("--ready-file");
}

// --check-config: every problem of the configuration, its files and the relay, one a line;
// exit 1 if any.
int RunCheckConfig(const std::filesystem::path& config_path) {
  ServerConfigCheck check = CheckServerConfig(config_path, SystemClock().Now(), &mail::ProbeRelay);
  if (!check.problems.empty()) {
    std::fprintf(stderr, "anshin-server: %s: %zu problem%s:\n", config_path.c_str(),
                 check.problems.size(), check.problems.size() == 1 ? "" : "s");
    for (const std::string& p : check.problems) std::fprintf(stderr, "  %s\n", p.c_str());
    return 1;
  }
  std::printf("anshin-server: %s: configuration OK\n", config_path.c_str());
  for (const std::string& n : check.notes) std::printf("  %s\n", n.c_str());
  return 0;
}

int Run(const std::filesystem::path& config_path, const std::filesystem::path& ready_file) {
  Result<sys::Config> config = sys::Config::Load(config_path);
  if (!config.ok()) return Fail(config.status());
  if (Status s = RejectUnknownServerKeys(*config, mail::MailConfigKeys()); !s.ok()) return Fail(s);
  Result<ServerConfig> settings = LoadServerConfig(*config);
  if (!settings.ok()) return Fail(settings.status());
  Result<mail::MailConfig> mail_config = mail::LoadMailConfig(*config);
  if (!mail_config.ok()) return Fail(mail_config.status());
  Result<anshin::mail::TemplateSet> templates = mail::LoadTemplates(mail_config->templates_dir);
  if (!templates.ok()) return Fail(templates.status().WithContext("mail.templates_dir"));
  Result<spdlog::level::level_enum> log_level =
      sys::ParseLogLevel("server.log_level", settings->log_level);
  if (!log_level.ok()) return Fail(log_level.status());
  if (Status s = sys::InitLogging(sys::LogOptions{
          .program = "anshin-server", .level = *log_level, .format = settings->log_format});
      !s.ok()) {
    return Fail(s);
  }

  Result<std::unique_ptr<asio::ssl::context>> tls =
      MakeAgentTlsContext(TlsFiles{settings->tls_cert, settings->tls_key, settings->tls_client_ca});
  if (!tls.ok()) return Fail(tls.status());
  Result<std::optional<CardKey>> card_key = LoadServerCardKey(*settings);
  if (!card_key.ok()) return Fail(card_key.status());

  auto clock = std::make_shared<SystemClock>();
  store::OpenOptions store_options;
  store_options.database = settings->database;
  store_options.synchronous_full = settings->synchronous_full;
  // One read connection per allowlist worker, one for metrics, one for the verification page.
  // Two more for the staff console's pool when it is on.
  store_options.readers = settings->workers + 2 + (settings->staff_listen ? 2 : 0);
  // One server per database: a second one would run a second mailer beside the first.
  Result<sys::InstanceLock> instance = sys::InstanceLock::Acquire(
      sys::InstanceLock::ForDatabase(settings->database),
      "the database " + settings->database.string() + " (is another anshin-server running?)");
  if (!instance.ok()) return Fail(instance.status());
  Result<std::unique_ptr<store::Store>> opened = store::OpenStore(store_options);
  if (!opened.ok()) return Fail(opened.status().WithContext(settings->database.string()));
  store::Store& store = **opened;
  // Each zone is loaded once, for ingest, the mailer and the checks.
  sys::TimeZones zone_cache;
  services::ZoneLoader zones = [&zone_cache](const std::string& name) {
    return zone_cache.Get(name);
  };

  ingest::IngestOptions ingest_options;
  ingest_options.clock = clock;
  ingest_options.zones = zones;
  ingest::IngestService ingest(store, ingest_options);
  ingest::AllowlistService allowlist(store, settings->workers);
  ingest::ClosingChecks closing(store, zones);
  AgentApi agent_api(store, ingest, allowlist, closing, *clock, zones);

  const mail::SmtpOptions smtp = mail::SmtpOptionsFor(*mail_config);
  Result<std::unique_ptr<mail::CurlSmtpTransport>> transport =
      mail::CurlSmtpTransport::Create(smtp);
  if (!transport.ok()) return Fail(transport.status().WithContext("mail.relay"));
  mail::Mailer mailer(*mail_config, std::move(templates).value(), store, **transport, *clock,
                      zones);
  ingest.SetOutboxListener([&mailer] { mailer.Notify(); });
  if (Status s = mailer.Start(); !s.ok()) return Fail(s.WithContext("mailer"));

  // The verification page blocks on the store: it runs on its own small pool.
  services::Guardians guardians(store);
  mail::VerificationPage verification(guardians, *clock);
  asio::thread_pool page_pool(1);

  asio::io_context ioc(1);
  HttpServerOptions options;
  options.agents_listen = settings->agents_listen;
  options.public_listen = settings->public_listen;
  options.agents_limits = settings->agents_limits;
  options.public_limits = settings->public_limits;
  options.staff_listen = settings->staff_listen;
  options.staff_limits = settings->staff_limits;
  options.handshake_timeout = settings->handshake_timeout;
  options.idle_timeout = settings->idle_timeout;
  options.request_timeout = settings->request_timeout;
  options.shutdown_grace = settings->request_timeout;
  HttpServer server(ioc, **tls, agent_api, *clock, options);
  server.AddMetricsSource([&mailer] { return mailer.MetricsText(); });
  server.SetPublicPages(
      {"/verify"}, [&verification, &page_pool](const Request& req, const std::string& client,
                                               std::function<void(Response)> respond) {
        asio::post(page_pool, [&verification, req, client, respond = std::move(respond)] {
          mail::PageReply reply = verification.Handle(ToStd(req.method_string()),
                                                      ToStd(req.target()), req.body(), client);
          Response res = TextResponse(req, static_cast<http::status>(reply.status),
                                      reply.content_type, std::move(reply.body));
          for (const auto& [name, value] : reply.headers) res.set(name, value);
          respond(std::move(res));
        });
      });
  // The staff console (docs/console.md) blocks on the store and hashes passwords: its own pool.
  console::Console staff_console(store, *clock, zones);
  staff_console.SetUnusualAccessLimit(settings->alerts_unusual_access_per_hour);
  if (*card_key) staff_console.SetCardKey(**card_key);
  staff_console.SetOutboxListener([&mailer] { mailer.Notify(); });
  asio::thread_pool console_pool(2);
  std::unique_ptr<asio::ssl::context> staff_tls;
  if (settings->staff_listen) {
    const bool own = !settings->staff_tls_cert.empty();
    Result<std::unique_ptr<asio::ssl::context>> made =
        MakeServerTlsContext(own ? settings->staff_tls_cert : settings->tls_cert,
                             own ? settings->staff_tls_key : settings->tls_key);
    if (!made.ok()) return Fail(made.status().WithContext("staff listener"));
    staff_tls = std::move(made).value();
    server.SetStaffConsole(
        *staff_tls, [&staff_console, &console_pool](const Request& req, const std::string&,
                                                    std::function<void(Response)> respond) {
          asio::post(console_pool, [&staff_console, req, respond = std::move(respond)] {
            respond(staff_console.Handle(req));
          });
        });
  }
  if (Status s = server.Start(); !s.ok()) return Fail(s);
  if (!ready_file.empty()) {
    if (Status s = WriteReadyFile(ready_file, server); !s.ok()) return Fail(s);
  }

  asio::thread_pool scheduler_pool(1);
  asio::steady_timer scheduler_timer(ioc);
  services::RetentionPolicy retention;
  retention.months = settings->retention_months;
  retention.withdrawn_grace_days = settings->retention_withdrawn_grace_days;
  auto daily_purge = [&store, retention, zones](TimePoint now) {
    Result<std::optional<services::PurgeCounts>> purged =
        services::DailyPurge(store, retention, now, zones);
    if (!purged.ok()) {
      spdlog::warn("daily purge: {}", purged.status().ToString());
    } else if (*purged) {
      spdlog::info("daily purge: {}", services::PurgeCountsText(**purged));
    }
  };
  ingest::AlertChecks alert_checks(
      store, zones,
      ingest::AlertCheckOptions{
          .agent_silent = Millis(std::int64_t{60'000} * settings->alerts_agent_silent_minutes),
          .mail_stuck = Millis(std::int64_t{60'000} * settings->alerts_mail_stuck_minutes),
          .repeat = Millis(std::int64_t{3'600'000} * settings->alerts_repeat_hours),
          .mail_queued = [&mailer] { mailer.Notify(); }});
  asio::co_spawn(ioc,
                 RunScheduler(scheduler_timer, scheduler_pool, closing, alert_checks, mailer,
                              *clock, daily_purge),
                 asio::detached);
  // The staff alert mails have their own SMTP transport (one thread uses each).
  Result<std::unique_ptr<mail::CurlSmtpTransport>> staff_transport =
      mail::CurlSmtpTransport::Create(smtp);
  if (!staff_transport.ok()) return Fail(staff_transport.status().WithContext("mail.relay"));
  mail::StaffAlertMailer staff_alert_mail(
      store, **staff_transport,
      mail::StaffAlertMailOptions{.from = mail_config->from,
                                  .from_name = mail_config->from_name,
                                  .message_id_domain = mail_config->message_id_domain,
                                  .console_url = settings->alerts_console_url},
      zones);
  asio::thread_pool staff_mail_pool(1);
  asio::steady_timer staff_mail_timer(ioc);
  asio::co_spawn(ioc,
                 RunStaffAlertMail(staff_mail_timer, staff_mail_pool, staff_alert_mail, *clock),
                 asio::detached);

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: stopping", signo);
    server.Shutdown();
    scheduler_timer.cancel();
    staff_mail_timer.cancel();
  });

  spdlog::info("anshin-server ready (database {})", settings->database.string());
  ioc.run();  // returns once the listeners, connections, scheduler and signals are done

  scheduler_pool.join();
  staff_mail_pool.join();
  page_pool.join();
  ingest.Shutdown();  // commits what is queued; no more outbox notifications after this
  allowlist.Shutdown();
  mailer.Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace
}  // namespace anshin::server

int main(int argc, char** argv) {
  CLI::App app{
      "anshin-server: the central server of anshin (tap ingest over mutual TLS, "
      "mail notifications, metrics). See deploy/server.example.toml."};
  std::string config_path;
  std::string ready_file;
  app.add_option("--config", config_path, "TOML configuration file")->required();
  app.add_option("--ready-file", ready_file,
                 "once the listeners are bound, write {\"agents_port\":N,\"public_port\":M} "
                 "(and \"staff_port\":S with server.staff_listen) "
                 "atomically to this file");
  bool check_config = false;
  app.add_flag("--check-config", check_config,
               "check every key, the TLS files, the public URL and the relay, list every "
               "problem, and exit (1 if any)");
  CLI11_PARSE(app, argc, argv);
  if (check_config) return anshin::server::RunCheckConfig(config_path);
  // A peer closing mid-write must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return anshin::server::Run(config_path, ready_file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anshin-server: %s\n", e.what());
    return 1;
  }
}

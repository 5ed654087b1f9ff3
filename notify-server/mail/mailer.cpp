#include "notify-server/mail/mailer.hpp"

#include "notify-server/metrics_text.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <future>

#include "common/mail/mime.hpp"
#include "common/sys/logging.hpp"
#include "services/audit_log.hpp"

namespace anshin::server::mail {
namespace {

using store::OutboxKind;
using store::SendResult;

// Outcomes waiting for the committer; the sender pauses when this many batches' worth are
// pending (the database is slower than the relay).
constexpr std::size_t kMaxPendingBatches = 4;
// A claim takes this many batches' worth of due rows.
constexpr int kClaimBatches = 4;
constexpr auto kCommitRetryDelay = std::chrono::milliseconds(500);

std::string WithPrefix(std::string_view prefix, const std::string& text) {
  return std::string(prefix) + text;
}

// Relay replies often quote the recipient ("<x@example.jp>: Recipient address rejected"); the
// send history keeps them, but logs must not carry mail addresses.
std::string RedactAddresses(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t sp = text.find(' ', pos);
    std::string_view word =
        text.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos);
    out += word.find('@') != std::string_view::npos ? std::string_view("<address>") : word;
    if (sp == std::string_view::npos) break;
    out += ' ';
    pos = sp + 1;
  }
  return out;
}

}  // namespace

Mailer::Mailer(MailConfig config, anshin::mail::TemplateSet templates, store::Store& store,
               MailTransport& transport, const Clock& clock, services::ZoneLoader zones,
               MailerOptions options)
    : config_(std::move(config)),
      templates_(std::move(templates)),
      store_(store),
      transport_(transport),
      clock_(clock),
      zones_(std::move(zones)),
      options_(options),
      rng_(options.jitter_seed != 0 ? options.jitter_seed : std::random_device{}()) {
  // The footers' {callcenter} comes from the configuration (mail.callcenter_phone).
  templates_.SetCallcenterPhone(config_.callcenter_phone);
}

Mailer::~Mailer() { Stop(); }

Status Mailer::Start() {
  if (started_) return Status::FailedPrecondition("mailer already started");
  auto requeued =
      store::InWrite(store_, [](store::WriteTxn& txn) { return txn.outbox().RequeueSending(); });
  if (!requeued.ok()) return requeued.status().WithContext("requeueing messages left sending");
  if (*requeued > 0)
    spdlog::warn("mail: {} message(s) left sending by a previous run requeued", *requeued);
  {
    std::lock_guard lock(mu_);
    stop_ = false;
    sender_done_ = false;
  }
  started_ = true;
  committer_ = std::thread([this] { CommitterLoop(); });
  sender_ = std::thread([this] { SenderLoop(); });
  // A URL may carry user:password@; log the scheme and host only.
  std::string relay = config_.relay;
  if (std::size_t at = relay.rfind('@'); at != std::string::npos) {
    relay = relay.substr(0, relay.find("://") + 3) + relay.substr(at + 1);
  }
  spdlog::info("mail: started, relay {} with {} connection(s)", relay, config_.connections);
  return Status::Ok();
}

void Mailer::Stop() {
  if (!started_) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  recorded_.notify_all();
  if (sender_.joinable()) sender_.join();
  {
    std::lock_guard lock(mu_);
    sender_done_ = true;
  }
  committed_.notify_all();
  if (committer_.joinable()) committer_.join();
  started_ = false;
  spdlog::info("mail: stopped");
}

void Mailer::Notify() {
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  wake_.notify_one();
}

Millis Mailer::Backoff(int attempts) {
  std::int64_t delay = config_.retry_min.count();
  for (int i = 1; i < attempts && delay < config_.retry_max.count(); ++i) delay *= 2;
  delay = std::min<std::int64_t>(delay, config_.retry_max.count());
  std::uniform_int_distribution<std::int64_t> jitter(delay / 2, delay);
  return Millis(jitter(rng_));
}

std::string Mailer::MessageIdOf(const store::OutboxItem& item) const {
  // Stable across retries of the same row, so a duplicate after a crash is recognisable.
  auto id = anshin::mail::MakeMessageId(std::to_string(item.id) + "." +
                                            std::to_string(ToUnixMillis(item.message.created_at)) +
                                            ".anshin",
                                        config_.message_id_domain);
  return id.ok() ? *id : std::string();
}

Result<OutgoingMail> Mailer::Compose(const store::OutboxItem& item, const std::string& message_id,
                                     TimePoint now) {
  ANSHIN_ASSIGN_OR_RETURN(std::shared_ptr<const TimeZone> zone, zones_(item.facility_tz));
  const store::OutboxMessage& msg = item.message;
  anshin::mail::MailText text;
  switch (msg.kind) {
    case OutboxKind::kArrival:
    case OutboxKind::kDeparture:
    case OutboxKind::kInferredDeparture:
    case OutboxKind::kCorrection: {
      if (!msg.tap_at) return Status::InvalidArgument("notice without a tap time");
      Notice notice;
      notice.kind = *store::NoticeKindOf(msg.kind);
      if (msg.child) notice.child = *msg.child;
      if (msg.facility) notice.facility = *msg.facility;
      notice.at = *msg.tap_at;
      notice.arrival_at = msg.arrival_at;
      notice.late = msg.late;
      notice.staff_recorded = msg.staff_recorded;
      ANSHIN_ASSIGN_OR_RETURN(text, anshin::mail::ComposeNotice(templates_, notice, item.child_name,
                                                                item.facility_name, *zone));
      break;
    }
    case OutboxKind::kVerification: {
      if (msg.verification_code.empty() || msg.link_token.empty()) {
        return Status::FailedPrecondition(
            "verification code no longer stored (already sent or failed)");
      }
      std::string link = config_.public_url + "/verify?token=" + msg.link_token;
      ANSHIN_ASSIGN_OR_RETURN(text, anshin::mail::ComposeVerification(
                                        templates_, msg.verification_code, link,
                                        msg.created_at + options_.verification_lifetime, *zone));
      break;
    }
    case OutboxKind::kTest: {
      ANSHIN_ASSIGN_OR_RETURN(text, anshin::mail::ComposeTestMail(templates_, now, *zone));
      break;
    }
    case OutboxKind::kNotArrived: {
      // tap_at holds the time the child was expected by.
      if (!msg.tap_at) return Status::InvalidArgument("not-arrived mail without its expected time");
      ANSHIN_ASSIGN_OR_RETURN(
          text, anshin::mail::ComposeNotArrived(templates_, *msg.tap_at, item.child_name,
                                                item.facility_name, *zone));
      break;
    }
  }
  anshin::mail::MailMessage m;
  m.from_address = config_.from;
  m.from_name = config_.from_name;
  m.reply_to = config_.reply_to;
  m.to = item.email;
  m.subject = std::move(text.subject);
  m.body = std::move(text.body);
  m.message_id = message_id;
  // A late notice is dated by its tap, so late mails keep the order of the taps in the
  // guardian's mailbox (an on-time departure must not sort above the late arrival before it);
  // its subject and first line say that it is late.
  m.date = msg.late && msg.tap_at ? *msg.tap_at : now;
  m.charset = item.charset == store::Charset::kIso2022Jp ? anshin::mail::Charset::kIso2022Jp
                                                         : anshin::mail::Charset::kUtf8;
  auto rendered = anshin::mail::RenderMessage(m, *zone);
  if (!rendered.ok() && m.charset == anshin::mail::Charset::kIso2022Jp &&
      rendered.status().code() == Status::Code::kInvalidArgument) {
    // A character ISO-2022-JP cannot carry (a name kanji, a symbol): sending it in UTF-8 beats
    // not telling the guardian at all.
    // (The status names the character, which may come from a name: not logged.)
    spdlog::warn("mail: outbox {} (guardian {}) not representable in ISO-2022-JP, sent as UTF-8",
                 item.id, msg.guardian.value);
    m.charset = anshin::mail::Charset::kUtf8;
    rendered = anshin::mail::RenderMessage(m, *zone);
  }
  if (!rendered.ok()) return rendered.status();
  return OutgoingMail{item.id, config_.from, item.email, std::move(rendered).value()};
}

SendResult Mailer::ResultOf(const store::OutboxItem& item, const SendOutcome& outcome,
                            const std::string& message_id, TimePoint now) {
  SendResult r;
  r.outbox_id = item.id;
  r.guardian = item.message.guardian;
  r.at = now;
  r.smtp_code = outcome.smtp_code;
  r.reply = outcome.reply;
  r.message_id = message_id;
  switch (outcome.kind) {
    case SendOutcome::Kind::kSent:
      r.outcome = SendResult::Outcome::kSent;
      break;
    case SendOutcome::Kind::kPermanent:
      r.outcome = SendResult::Outcome::kFailed;
      break;
    case SendOutcome::Kind::kTemporary:
      if (now - item.message.created_at >= config_.max_age) {
        r.outcome = SendResult::Outcome::kFailed;
        r.reply = WithPrefix("gave up after mail.max_age: ", outcome.reply);
      } else {
        r.outcome = SendResult::Outcome::kRetry;
        r.next_attempt_at = now + Backoff(item.attempts + 1);
      }
      break;
  }
  return r;
}

Result<std::vector<SendResult>> Mailer::SendRound() {
  ANSHIN_ASSIGN_OR_RETURN(std::vector<store::OutboxItem> items, Claim(config_.batch_size));
  return SendClaimed(items);
}

std::vector<SendResult> Mailer::SendClaimed(std::span<const store::OutboxItem> items,
                                            const ResultStream& stream) {
  TimePoint now = clock_.Now();
  std::vector<SendResult> results;
  if (items.empty()) return results;
  if (!stream) results.reserve(items.size());
  auto emit = [&](SendResult r, const store::OutboxItem& item) {
    // One line per attempt: IDs, kind, result and the relay's code; the reply (the cause) of a
    // failure with any address in it redacted.
    const std::string_view kind = store::kOutboxKindNames.Name(item.message.kind);
    switch (r.outcome) {
      case SendResult::Outcome::kSent:
        sys::LogEvent(spdlog::level::info, "mail",
                      {{"outbox", r.outbox_id},
                       {"kind", kind},
                       {"guardian", item.message.guardian.value},
                       {"result", "sent"},
                       {"code", r.smtp_code}});
        break;
      case SendResult::Outcome::kRetry:
        sys::LogEvent(spdlog::level::info, "mail",
                      {{"outbox", r.outbox_id},
                       {"kind", kind},
                       {"guardian", item.message.guardian.value},
                       {"result", "retry"},
                       {"code", r.smtp_code},
                       {"reply", RedactAddresses(r.reply)}});
        break;
      case SendResult::Outcome::kFailed:
        sys::LogEvent(spdlog::level::warn, "mail",
                      {{"outbox", r.outbox_id},
                       {"kind", kind},
                       {"guardian", item.message.guardian.value},
                       {"result", "failed"},
                       {"code", r.smtp_code},
                       {"reply", RedactAddresses(r.reply)}});
        break;
    }
    if (stream) {
      stream(std::move(r));
    } else {
      results.push_back(std::move(r));
    }
  };

  std::vector<OutgoingMail> mails;
  std::vector<const store::OutboxItem*> sent_items;
  std::vector<std::string> ids;
  mails.reserve(items.size());
  for (const store::OutboxItem& item : items) {
    std::string message_id = MessageIdOf(item);
    auto mail = Compose(item, message_id, now);
    if (!mail.ok()) {
      // Bad data in the row (an address or name that fails validation): retrying cannot help,
      // and it says nothing about the address being reachable (no bouncing mark).
      spdlog::error("mail: outbox {} (guardian {}) cannot be composed: {}", item.id,
                    item.message.guardian.value, mail.status().ToString());
      SendResult r;
      r.outbox_id = item.id;
      r.guardian = item.message.guardian;
      r.outcome = SendResult::Outcome::kFailed;
      r.at = now;
      r.reply = "composition failed: " + mail.status().message();
      emit(std::move(r), item);
      continue;
    }
    mails.push_back(std::move(mail).value());
    sent_items.push_back(&item);
    ids.push_back(std::move(message_id));
  }
  // Each outcome is passed on the moment the transport knows it: a message the relay accepted
  // is recorded sent while the rest of the batch is still on the wire.
  std::vector<char> told(sent_items.size(), 0);
  auto on_outcome = [&](std::size_t i, const SendOutcome& o) {
    if (i >= sent_items.size() || told[i]) return;
    told[i] = 1;
    emit(ResultOf(*sent_items[i], o, ids[i], clock_.Now()), *sent_items[i]);
  };
  std::vector<SendOutcome> outcomes = transport_.Send(mails, on_outcome);
  const TimePoint done = clock_.Now();
  std::size_t missing = 0;
  for (std::size_t i = 0; i < sent_items.size(); ++i) {
    if (told[i]) continue;
    if (i < outcomes.size()) {
      on_outcome(i, outcomes[i]);  // a transport that only returns its outcomes
      continue;
    }
    // A transport that lost track of some messages: nothing says the relay has them, so they
    // are retried (they would otherwise stay `sending` until the next start).
    ++missing;
    SendOutcome lost;
    lost.id = sent_items[i]->id;
    lost.kind = SendOutcome::Kind::kTemporary;
    lost.reply = "the transport returned no outcome for this message";
    told[i] = 1;
    emit(ResultOf(*sent_items[i], lost, ids[i], done), *sent_items[i]);
  }
  if (missing > 0) {
    spdlog::error("mail: the transport returned {} outcome(s) for {} message(s); the rest retry",
                  sent_items.size() - missing, sent_items.size());
  }
  batches_.fetch_add(1, std::memory_order_relaxed);
  return results;
}

Result<std::vector<store::OutboxItem>> Mailer::Claim(int limit) {
  const TimePoint now = clock_.Now();
  return store::InWrite(store_,
                        [&](store::WriteTxn& txn) { return txn.outbox().Claim(limit, now); });
}

// The address starts bouncing: flagged, and one address_bouncing alert for the call centre
// (the child and facility named by id; the address never leaves the guardians table).
Status Mailer::MarkBouncing(store::WriteTxn& txn, GuardianId guardian) {
  ANSHIN_ASSIGN_OR_RETURN(store::Guardian g, txn.guardians().Get(guardian));
  if (g.bouncing) return Status::Ok();
  ANSHIN_RETURN_IF_ERROR(txn.guardians().SetBouncing(guardian, true));
  ANSHIN_ASSIGN_OR_RETURN(store::Child child, txn.children().Get(g.child));
  store::AlertRecord alert;
  alert.kind = AlertKind::kAddressBouncing;
  alert.facility = child.facility;
  alert.child = child.id;
  alert.at = clock_.Now();
  alert.detail = "guardian=" + guardian.ToString();
  ANSHIN_RETURN_IF_ERROR(txn.alerts().Insert(alert).status());
  sys::LogEvent(spdlog::level::warn, "alert",
                {{"kind", AlertKindName(alert.kind)},
                 {"facility", child.facility.value},
                 {"child", child.id.ToString()},
                 {"guardian", guardian.ToString()}});
  return Status::Ok();
}

// Records outcomes in one transaction. A 5xx refusal (permanent) marks the address bouncing:
// the call centre sees it, and no more attendance mail is queued for it until it is fixed.
Status Mailer::Record(std::span<const SendResult> results) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Status {
    for (const SendResult& r : results) {
      Status s = txn.outbox().RecordAttempt(r);
      if (s.code() == Status::Code::kNotFound) {
        spdlog::warn("mail: outbox {} vanished before its outcome was recorded", r.outbox_id);
        continue;
      }
      ANSHIN_RETURN_IF_ERROR(s);
      if (r.outcome == SendResult::Outcome::kFailed && r.smtp_code >= 500 && r.smtp_code < 600) {
        ANSHIN_RETURN_IF_ERROR(MarkBouncing(txn, r.guardian));
      }
    }
    return Status::Ok();
  });
}

Status Mailer::Commit(std::span<const SendResult> results) {
  if (results.empty()) return Status::Ok();
  Status s = Record(results);
  if (!s.ok()) {
    commit_errors_.fetch_add(1, std::memory_order_relaxed);
    return s;
  }
  commits_.fetch_add(1, std::memory_order_relaxed);
  for (const SendResult& r : results) {
    switch (r.outcome) {
      case SendResult::Outcome::kSent:
        sent_.fetch_add(1, std::memory_order_relaxed);
        break;
      case SendResult::Outcome::kRetry:
        retried_.fetch_add(1, std::memory_order_relaxed);
        break;
      case SendResult::Outcome::kFailed:
        failed_.fetch_add(1, std::memory_order_relaxed);
        break;
    }
  }
  return Status::Ok();
}

Result<int> Mailer::RunOnce() {
  ANSHIN_ASSIGN_OR_RETURN(std::vector<SendResult> results, SendRound());
  ANSHIN_RETURN_IF_ERROR(Commit(results));
  return static_cast<int>(results.size());
}

void Mailer::SenderLoop() {
  // Rows are claimed kClaimBatches batches at a time (fewer write transactions) and sent one
  // batch at a time; while the last batch of a claim is on the wire the next claim runs on a
  // helper thread, and the committer records earlier batches meanwhile, so the SMTP sessions
  // rarely wait for the database.
  using Claimed = Result<std::vector<store::OutboxItem>>;
  auto claim = [this] { return Claim(config_.batch_size * kClaimBatches); };
  const std::size_t batch = static_cast<std::size_t>(config_.batch_size);
  bool last_error_logged = false;
  Claimed items = claim();
  for (;;) {
    if (!items.ok()) {
      if (!last_error_logged)
        spdlog::error("mail: claiming the outbox failed: {}", items.status().ToString());
      last_error_logged = true;
    } else {
      last_error_logged = false;
    }
    if (!items.ok() || items->empty()) {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, options_.idle_poll, [&] { return stop_ || notified_; });
      notified_ = false;
      if (stop_) break;
      lock.unlock();
      items = claim();
      continue;
    }
    // Rows already claimed are sent even when stopping: they would otherwise stay `sending`
    // until the next start.
    std::future<Claimed> next;
    bool stopping = false;
    for (std::size_t offset = 0; offset < items->size(); offset += batch) {
      {
        std::unique_lock lock(mu_);
        // Back-pressure: never run more than a few batches ahead of the committer.
        wake_.wait(lock, [&] { return stop_ || pending_.size() < kMaxPendingBatches * batch; });
        stopping = stop_;
      }
      const bool last = offset + batch >= items->size();
      if (last && !stopping) next = std::async(std::launch::async, claim);
      std::span<const store::OutboxItem> chunk(items->data() + offset,
                                               std::min(batch, items->size() - offset));
      SendClaimed(chunk, [this](SendResult r) {
        const bool sent = r.outcome == SendResult::Outcome::kSent;
        std::unique_lock lock(mu_);
        pending_.push_back(std::move(r));
        if (sent) ++unrecorded_sent_;
        committed_.notify_one();
        // The transport waits here (its other sessions keep their messages on the wire): two
        // commits' worth of accepted messages at most are unrecorded.
        const std::size_t limit = 2 * static_cast<std::size_t>(config_.connections);
        recorded_.wait(lock, [&] { return unrecorded_sent_ < limit || stop_; });
      });
    }
    if (!next.valid()) break;
    items = next.get();
  }
}

void Mailer::CommitterLoop() {
  for (;;) {
    std::vector<SendResult> batch;
    {
      std::unique_lock lock(mu_);
      committed_.wait(lock, [&] { return sender_done_ || !pending_.empty(); });
      if (pending_.empty() && sender_done_) return;
      // Group commit: every outcome known since the last commit goes in one go.
      batch.swap(pending_);
    }
    wake_.notify_one();  // the sender may be waiting for room
    const std::size_t sent_in_batch =
        static_cast<std::size_t>(std::count_if(batch.begin(), batch.end(), [](const SendResult& r) {
          return r.outcome == SendResult::Outcome::kSent;
        }));
    for (int attempt = 0;; ++attempt) {
      Status s = Commit(batch);
      if (s.ok()) break;
      spdlog::error("mail: recording {} send result(s) failed (attempt {}): {}", batch.size(),
                    attempt + 1, s.ToString());
      bool stopping;
      {
        std::lock_guard lock(mu_);
        stopping = sender_done_;
      }
      if (stopping && attempt >= 5) {
        spdlog::error("mail: giving up on {} result(s); they are requeued at the next start",
                      batch.size());
        break;
      }
      std::this_thread::sleep_for(kCommitRetryDelay);
    }
    {
      std::lock_guard lock(mu_);
      unrecorded_sent_ -= std::min(unrecorded_sent_, sent_in_batch);
      // A recorded outcome makes the guardian's next row claimable (one row per guardian is
      // out at a time): the sender looks again now, not after idle_poll.
      notified_ = true;
    }
    recorded_.notify_all();
    wake_.notify_all();
  }
}

std::string Mailer::MetricsText() {
  std::string out;
  PrometheusText text(out);
  text.Counter("anshin_mailer_sent_total", "Messages accepted by the relay.", sent_.load());
  text.Counter("anshin_mailer_retries_total",
               "Attempts deferred for a retry (4xx, time-out, relay down).", retried_.load());
  text.Counter("anshin_mailer_failed_total", "Messages given up (5xx, max age, bad data).",
               failed_.load());
  text.Counter("anshin_mailer_batches_total", "Batches handed to the SMTP transport.",
               batches_.load());
  text.Counter("anshin_mailer_commit_errors_total", "Failed commits of send results.",
               commit_errors_.load());
  return out;
}

Result<int> Mailer::EnqueueMonthlyTestIfDue(TimePoint now) {
  if (!config_.monthly_test) return 0;
  ANSHIN_ASSIGN_OR_RETURN(
      std::vector<store::Facility> facilities,
      store::InRead(store_, [](store::ReadTxn& txn) { return txn.facilities().List(); }));
  int queued = 0;
  for (const store::Facility& f : facilities) {
    // The first day of the month from 10:00 in the facility's own zone; once per facility and
    // month, recorded in the store so a restart on the 1st does not mail everyone again.
    ANSHIN_ASSIGN_OR_RETURN(std::shared_ptr<const TimeZone> zone, zones_(f.tz_name));
    const LocalDateTime local = zone->ToLocal(now);
    if (local.date.day != 1 || local.time < LocalTime::HM(10, 0)) continue;
    const std::string period = local.date.ToString().substr(0, 7);
    ANSHIN_ASSIGN_OR_RETURN(
        int n, store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<int> {
          ANSHIN_ASSIGN_OR_RETURN(bool first,
                                  txn.jobs().RecordRun("monthly-test:" + f.code, period, now));
          if (!first) return 0;
          ANSHIN_ASSIGN_OR_RETURN(int rows, txn.outbox().InsertTestMails(f.id, now));
          ANSHIN_RETURN_IF_ERROR(
              services::AppendAudit(txn, store::Actor{"scheduler", now}, "mail.test_queued",
                                    "facility=" + f.id.ToString() + " month=" + period +
                                        " count=" + std::to_string(rows)));
          return rows;
        }));
    if (n > 0)
      spdlog::info("mail: monthly test mail queued for {} guardian(s) of facility {}", n, f.code);
    queued += n;
  }
  if (queued > 0) Notify();
  return queued;
}

}  // namespace anshin::server::mail

// Mailer: drains the outbox into a MailTransport and records every attempt (DESIGN.md §6).
//
// States of an outbox row: queued -> sending (claimed) -> sent (with the relay's reply)
//                                                   \-> retrying (4xx, time-out, refused: backoff)
//                                                   \-> failed (5xx: guardian marked bouncing;
//                                                        or still retrying after mail.max_age)
// Every attempt is a send_log row (the send history, 送信履歴).
//
// Pipeline: a sender thread claims a batch (ClaimOutbox), composes each message (common/mail),
// hands the batch to the transport (which runs up to mail.connections SMTP sessions) and
// passes the outcomes to a committer thread, which writes all outcomes waiting at that moment
// in one transaction (group commit) while the next batch is already being sent. Rows are
// claimed several batches at a time, and the next claim runs while the last batch of the
// previous one is on the wire.
//
// Crash safety: a row is `sending` from its claim until its outcome commits. At Start() rows
// left `sending` by a crash are requeued and sent again. A guardian therefore gets a duplicate
// only if the process died after the relay accepted a message and before its outcome
// committed: each outcome reaches the committer the moment the relay answers (not at the end
// of its batch), and the sender does not take another answer while 2 x mail.connections
// accepted messages are unrecorded (two commits' worth: one running, one gathering), so a kill
// duplicates at most those and the ones on the wire (one per connection): 3 x mail.connections
// (docs/reliability.md has the figures); the Message-ID is
// stable per row, so a duplicate is recognisable. The relay being down only makes rows wait
// (retrying with backoff): the queue grows, /metrics shows it, and delivery resumes by itself.
//
// Thread-safety: Start()/Stop() from one thread (the server's main). Notify() and
// MetricsText() from any thread. RunOnce()/SendRound()/Commit() are for tests and tools and
// must not be mixed with a started mailer. The store, transport and clock must outlive it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/mail/templates.hpp"
#include "common/status.hpp"
#include "common/time.hpp"
#include "notify-server/mail/mail_config.hpp"
#include "notify-server/mail/mail_transport.hpp"
#include "services/facilities.hpp"
#include "services/guardians.hpp"
#include "store/store.hpp"

namespace anshin::server::mail {

struct MailerOptions {
  Millis idle_poll{200};          // how often an idle mailer looks for due rows
  std::uint64_t jitter_seed = 0;  // 0: seeded from std::random_device
  // How long a verification code stays valid (the mail says until when).
  Millis verification_lifetime = services::GuardianLimits{}.code_lifetime;
};

class Mailer {
 public:
  Mailer(MailConfig config, anshin::mail::TemplateSet templates, store::Store& store,
         MailTransport& transport, const Clock& clock, services::ZoneLoader zones,
         MailerOptions options = {});
  ~Mailer();  // Stop()s
  Mailer(const Mailer&) = delete;
  Mailer& operator=(const Mailer&) = delete;

  // Requeues rows left `sending` by a crash and starts the sender and committer threads.
  Status Start();
  // Finishes the batch in flight, commits every outcome, joins the threads. Idempotent.
  void Stop();
  // New rows are queued: look now rather than at the next idle poll. Cheap, any thread.
  void Notify();

  // One synchronous round: SendRound() then Commit(). Returns how many rows it handled.
  Result<int> RunOnce();
  // Claims up to batch_size due rows, composes and sends them; returns their outcomes
  // without committing them.
  Result<std::vector<store::SendResult>> SendRound();
  // Composes and sends rows already claimed; one result per row.
  // Sends the claimed rows. With `stream`, each outcome goes to it the moment the transport
  // knows it (the started mailer: the committer records it at once) and nothing is returned.
  using ResultStream = std::function<void(store::SendResult)>;
  std::vector<store::SendResult> SendClaimed(std::span<const store::OutboxItem> items,
                                             const ResultStream& stream = {});
  Status Commit(std::span<const store::SendResult> results);

  // When the next attempt after `attempts` failed attempts is due: exponential backoff from
  // retry_min, capped at retry_max, with jitter in [delay/2, delay].
  Millis Backoff(int attempts);

  // Outcomes committed by this mailer so far (cheap; for tests, tools and benchmarks).
  struct Counters {
    std::int64_t sent = 0, retried = 0, failed = 0;
  };
  Counters counters() const { return {sent_.load(), retried_.load(), failed_.load()}; }

  // Prometheus lines: messages sent/retried/failed, batches, commit errors. Counters only (the
  // outbox itself is counted by the server's metrics); thread-safe and cheap.
  std::string MetricsText();

  // Queues the monthly test mail when mail.monthly_test is on: for each facility whose local
  // date (in its own zone) is the first of a month from 10:00, once per facility and month
  // (recorded in the store's job runs, so restarts do not repeat it). Called by the server's
  // scheduler thread; returns how many mails were queued.
  Result<int> EnqueueMonthlyTestIfDue(TimePoint now);

 private:
  Result<OutgoingMail> Compose(const store::OutboxItem& item, const std::string& message_id,
                               TimePoint now);
  std::string MessageIdOf(const store::OutboxItem& item) const;
  Result<std::vector<store::OutboxItem>> Claim(int limit);
  Status Record(std::span<const store::SendResult> results);
  Status MarkBouncing(store::WriteTxn& txn, GuardianId guardian);
  store::SendResult ResultOf(const store::OutboxItem& item, const SendOutcome& outcome,
                             const std::string& message_id, TimePoint now);
  void SenderLoop();
  void CommitterLoop();

  const MailConfig config_;
  anshin::mail::TemplateSet templates_;  // set in the constructor, then only read
  store::Store& store_;
  MailTransport& transport_;
  const Clock& clock_;

  const services::ZoneLoader zones_;
  const MailerOptions options_;
  std::mt19937_64 rng_;  // sender thread only

  std::mutex mu_;
  std::condition_variable wake_;            // sender: work may be due, or stop
  std::condition_variable committed_;       // committer: results arrived, or stop
  std::condition_variable recorded_;        // sender: accepted messages were recorded
  bool stop_ = false;                       // guarded by mu_
  bool notified_ = false;                   // guarded by mu_
  std::vector<store::SendResult> pending_;  // guarded by mu_: outcomes not committed yet
  bool sender_done_ = false;                // guarded by mu_
  // Messages the relay accepted whose outcome is not committed yet (guarded by mu_); the sender
  // waits while there are 2 x mail.connections of them, which bounds what a kill -9 can
  // duplicate.
  std::size_t unrecorded_sent_ = 0;
  std::thread sender_;
  std::thread committer_;
  bool started_ = false;

  std::atomic<std::int64_t> sent_{0}, retried_{0}, failed_{0}, batches_{0}, commit_errors_{0};
  std::atomic<std::int64_t> commits_{0};
};

}  // namespace anshin::server::mail

// MailTransport: hands rendered messages to an SMTP relay (DESIGN.md §6).
//
// The mailer composes messages (common/mail) and gives them to a transport in batches; the
// transport delivers each message to the relay and says, per message, what happened:
//   - kSent: the relay accepted the message (2xx after the data); `reply` is its reply line
//     ("250 2.0.0 Ok: queued as 4F2C1"), kept in the send history.
//   - kTemporary: try again later. 4xx replies, time-outs, refused or closed connections, TLS
//     or authentication failures and a relay refusing our own sender (5xx to MAIL FROM, AUTH
//     or STARTTLS: a configuration problem, not the guardian's address).
//   - kPermanent: the relay refused this recipient or this message with a 5xx reply to RCPT TO
//     or to the data; the address is marked bouncing and the message is not retried.
// `smtp_code` is the relay's last reply code, 0 when there was none (e.g. connection refused).
//
// Each outcome is also given to `on_outcome` (when set) the moment it is known, before Send()
// returns, on the calling thread: the mailer records a message sent as soon as the relay
// accepted it, so a crash can re-send only what was on the wire (DESIGN.md §6).
//
// Ownership: Send() copies nothing it does not need after returning; outcomes are values.
// Thread-safety: an instance is used by one thread at a time (the mailer's sender thread);
// different instances are independent. Send() blocks until every message of the batch has an
// outcome (each bounded by the transport's time-outs).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace anshin::server::mail {

struct OutgoingMail {
  std::int64_t id = 0;  // the caller's tag (the outbox row), echoed in the outcome
  std::string from;     // envelope sender (MAIL FROM)
  std::string to;       // the one recipient (RCPT TO)
  std::string data;     // the complete RFC 5322 message, CRLF line ends, not dot-stuffed
};

struct SendOutcome {
  enum class Kind { kSent, kTemporary, kPermanent };
  std::int64_t id = 0;
  Kind kind = Kind::kTemporary;
  int smtp_code = 0;
  std::string reply;  // the relay's reply line, or the transport's error text
};

// Told of the outcome of mails[index].
using OutcomeListener = std::function<void(std::size_t index, const SendOutcome& outcome)>;

class MailTransport {
 public:
  virtual ~MailTransport() = default;
  // One outcome per message, in the order of `mails`; each also given to `on_outcome` as soon
  // as it is known (an empty listener is allowed).
  virtual std::vector<SendOutcome> Send(std::span<const OutgoingMail> mails,
                                        const OutcomeListener& on_outcome) = 0;
};

}  // namespace anshin::server::mail

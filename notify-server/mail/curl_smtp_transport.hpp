// CurlSmtpTransport: the real MailTransport, libcurl's SMTP client on its multi interface.
//
// Up to `connections` SMTP sessions run in parallel. Each session is a libcurl easy handle that
// is kept for the transport's lifetime; the multi handle's connection cache keeps every SMTP
// connection open between messages, so a session does EHLO/STARTTLS/AUTH once and then only
// MAIL FROM / RCPT TO / DATA per message. A connection that failed is closed by libcurl and the
// next message opens a fresh one.
//
// TLS: "smtp://" URLs use STARTTLS, required by default (CURLUSESSL_ALL: the message is never
// sent in clear); starttls = "none" allows a plain relay on a trusted host. "smtps://" is TLS
// from the start. The relay's certificate is verified (against `ca_file` when given).
// The password never appears in logs or outcomes; only the relay's replies are recorded.
//
// Thread-safety: as MailTransport (one thread at a time). Create() fails with InvalidArgument
// for a bad URL scheme and with Internal when libcurl cannot be initialised.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "notify-server/mail/mail_transport.hpp"

namespace anshin::server::mail {

struct SmtpOptions {
  std::string url = "smtp://127.0.0.1:25";  // smtp://host:port or smtps://host:port
  bool require_starttls = true;             // smtp:// only
  std::string username;                     // empty: no AUTH
  std::string password;
  std::string ca_file;  // PEM bundle for the relay's certificate; empty: the system's
  int connections = 4;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds message_timeout{60'000};  // one whole message, including connect
  std::string helo_name = "localhost";                // the name sent with EHLO
};

class CurlSmtpTransport final : public MailTransport {
 public:
  static Result<std::unique_ptr<CurlSmtpTransport>> Create(const SmtpOptions& options);
  ~CurlSmtpTransport() override;
  CurlSmtpTransport(const CurlSmtpTransport&) = delete;
  CurlSmtpTransport& operator=(const CurlSmtpTransport&) = delete;

  std::vector<SendOutcome> Send(std::span<const OutgoingMail> mails,
                                const OutcomeListener& on_outcome) override;

  // SMTP connections opened so far (a measure of connection reuse, for tests and metrics).
  long connections_opened() const { return connections_opened_; }

 private:
  struct Session;
  explicit CurlSmtpTransport(SmtpOptions options);
  Status Init();

  SmtpOptions options_;
  std::string url_;
  void* multi_ = nullptr;  // CURLM*; <curl/curl.h> stays out of this header
  std::vector<std::unique_ptr<Session>> sessions_;
  long connections_opened_ = 0;
};

}  // namespace anshin::server::mail

// ProbeRelay: connects to the SMTP relay the way the mailer will — greeting, EHLO, STARTTLS
// when required, AUTH when a username is set — and disconnects without sending anything. For
// `anshin-server --check-config`. Fails with Unavailable and the relay's or libcurl's words
// ("STARTTLS not supported by the relay", "connection refused"); the password never appears.
#pragma once

#include "common/status.hpp"
#include "notify-server/mail/curl_smtp_transport.hpp"

namespace anshin::server::mail {

Status ProbeRelay(const SmtpOptions& options);

}  // namespace anshin::server::mail

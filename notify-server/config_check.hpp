// CheckServerConfig: what `anshin-server --config FILE --check-config` reports before the server
// goes live. Every problem is listed, each naming its key:
//  - every key of the file is known (a misspelt one is named with the key it probably meant),
//    and the [server], [tls] and [mail] values are valid (the first invalid value of each table:
//    the loaders the server runs with);
//  - tls.cert / tls.key / tls.client_ca are readable PEM, the key matches, the certificate was
//    issued by the CA and is valid now (sys::CheckCertificateFiles);
//  - mail.public_url is an https URL of a real host (not an example or local domain) unless it is
//    plainly a test setup on localhost, and mail.from is not an example address;
//  - the database's folder exists and is writable by the user running the check;
//  - server.card_key, when set, is a card key readable by the server user only;
//  - the relay answers: greeting, EHLO, STARTTLS as configured, AUTH when set (`probe_relay`,
//    mail::ProbeRelay in the binary, a fake in unit tests).
// Notes carry facts worth seeing when all is well (certificate expiry, relay, public URL).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "common/time.hpp"
#include "notify-server/mail/curl_smtp_transport.hpp"

namespace anshin::server {

struct ServerConfigCheck {
  std::vector<std::string> problems;  // "key: what is wrong"
  std::vector<std::string> notes;
};

using RelayProbe = std::function<Status(const mail::SmtpOptions&)>;

ServerConfigCheck CheckServerConfig(const std::filesystem::path& config_path, TimePoint now,
                                    const RelayProbe& probe_relay);

// The problem with a public URL guardians will open, or "" (also used by `anshin-admin init`).
std::string PublicUrlProblem(const std::string& url);

}  // namespace anshin::server

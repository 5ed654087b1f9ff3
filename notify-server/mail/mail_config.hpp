// MailConfig: the [mail] table of the server's configuration (deploy/anshin-server.toml).
//
//   [mail]
//   relay = "smtp://relay.example.jp:587"  # or smtps://host:465
//   starttls = "required"                  # "required" (default) | "none" (smtp:// only)
//   username = "anshin"                    # empty: no AUTH
//   password_file = "/etc/anshin/smtp-password"  # else env ANSHIN_SMTP_PASSWORD
//   ca_file = ""                           # PEM bundle for the relay's certificate
//   from = "noreply@kids-anshin.example.jp"  # the fixed sending address
//   from_name = "キッズ安心メール"
//   reply_to = ""                          # optional
//   message_id_domain = ""                 # default: the domain of `from`
//   connections = 4                        # parallel SMTP sessions
//   batch_size = 256                       # messages claimed and sent together
//   retry_min = "30s"  retry_max = "30m"  max_age = "24h"
//   timeout = "60s"                        # one message, connect included
//   public_url = "https://kids-anshin.example.jp"  # base of verification links
//   templates_dir = ""                     # override files <kind>.txt (see common/mail)
//   monthly_test = false
//   iso2022jp_default = false              # charset of newly registered guardians
//   callcenter_phone = "03-1234-5678"      # shown to guardians (letters, mail footers)
//
// LoadMailConfig validates every key (errors name it) and reads the password; the password
// is held only in MailConfig::password and never logged.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "common/sys/sys.hpp"
#include "common/time.hpp"
#include "notify-server/mail/curl_smtp_transport.hpp"

namespace anshin::server::mail {

struct MailConfig {
  std::string relay = "smtp://127.0.0.1:25";
  bool require_starttls = true;
  std::string username;
  std::string password;
  std::filesystem::path ca_file;
  std::string from = "noreply@kids-anshin.invalid";
  std::string from_name = "キッズ安心メール";
  std::optional<std::string> reply_to;
  std::string message_id_domain = "kids-anshin.invalid";
  int connections = 4;
  int batch_size = 256;
  Millis retry_min{30'000};
  Millis retry_max{30 * 60'000};
  Millis max_age{24 * 3600'000};
  Millis timeout{60'000};
  std::string public_url = "http://localhost:8080";
  std::filesystem::path templates_dir;
  bool monthly_test = false;
  bool iso2022jp_default = false;
  // The call centre's number for guardians' questions ("03-1234-5678"; empty: not given).
  std::string callcenter_phone;
};

// The keys of the [mail] table, for the server's RejectUnknownKeys.
const std::vector<std::string_view>& MailConfigKeys();  // "mail.relay", ...

// The SMTP transport's options for this configuration (relay, STARTTLS, AUTH, CA, sessions).
SmtpOptions SmtpOptionsFor(const MailConfig& config);

// Reads [mail]; `getenv` is consulted for ANSHIN_SMTP_PASSWORD when no password_file is set.
Result<MailConfig> LoadMailConfig(const sys::Config& config);

}  // namespace anshin::server::mail

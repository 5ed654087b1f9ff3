#include "notify-server/mail/mail_config.hpp"

#include <cstdlib>

#include "common/mail/mime.hpp"
#include "common/validate.hpp"

namespace anshin::server::mail {

const std::vector<std::string_view>& MailConfigKeys() {
  static const std::vector<std::string_view> kKeys = {"mail.relay",
                                                      "mail.starttls",
                                                      "mail.username",
                                                      "mail.password_file",
                                                      "mail.ca_file",
                                                      "mail.from",
                                                      "mail.from_name",
                                                      "mail.reply_to",
                                                      "mail.message_id_domain",
                                                      "mail.connections",
                                                      "mail.batch_size",
                                                      "mail.retry_min",
                                                      "mail.retry_max",
                                                      "mail.max_age",
                                                      "mail.timeout",
                                                      "mail.public_url",
                                                      "mail.templates_dir",
                                                      "mail.monthly_test",
                                                      "mail.iso2022jp_default",
                                                      "mail.callcenter_phone"};
  return kKeys;
}

SmtpOptions SmtpOptionsFor(const MailConfig& c) {
  SmtpOptions smtp;
  smtp.url = c.relay;
  smtp.require_starttls = c.require_starttls;
  smtp.username = c.username;
  smtp.password = c.password;
  smtp.ca_file = c.ca_file.string();
  smtp.connections = c.connections;
  smtp.message_timeout = c.timeout;
  return smtp;
}

Result<MailConfig> LoadMailConfig(const sys::Config& config) {
  MailConfig c;
  ANSHIN_ASSIGN_OR_RETURN(c.relay, config.String("mail.relay", c.relay));
  if (!c.relay.starts_with("smtp://") && !c.relay.starts_with("smtps://")) {
    return Status::InvalidArgument("mail.relay: expected smtp://host:port or smtps://host:port");
  }
  ANSHIN_ASSIGN_OR_RETURN(std::string starttls, config.String("mail.starttls", "required"));
  if (starttls == "required") {
    c.require_starttls = true;
  } else if (starttls == "none") {
    c.require_starttls = false;
  } else {
    return Status::InvalidArgument("mail.starttls: expected \"required\" or \"none\"");
  }
  ANSHIN_ASSIGN_OR_RETURN(c.username, config.String("mail.username", ""));
  ANSHIN_ASSIGN_OR_RETURN(std::filesystem::path password_file,
                          config.Path("mail.password_file", {}));
  if (!password_file.empty()) {
    auto pw = sys::ReadFile(password_file);
    if (!pw.ok()) return pw.status().WithContext("mail.password_file");
    c.password = std::move(pw).value();
    while (!c.password.empty() && (c.password.back() == '\n' || c.password.back() == '\r'))
      c.password.pop_back();
  } else if (const char* env = std::getenv("ANSHIN_SMTP_PASSWORD"); env != nullptr) {
    c.password = env;
  }
  if (!c.username.empty() && c.password.empty()) {
    return Status::InvalidArgument(
        "mail.username is set but no password (mail.password_file or ANSHIN_SMTP_PASSWORD)");
  }
  ANSHIN_ASSIGN_OR_RETURN(c.ca_file, config.Path("mail.ca_file", {}));
  ANSHIN_ASSIGN_OR_RETURN(c.from, config.String("mail.from", c.from));
  ANSHIN_RETURN_IF_ERROR(anshin::CheckEmailAddress(c.from).WithContext("mail.from"));
  ANSHIN_ASSIGN_OR_RETURN(c.from_name, config.String("mail.from_name", c.from_name));
  ANSHIN_RETURN_IF_ERROR(anshin::mail::ValidateHeaderText("mail.from_name", c.from_name));
  ANSHIN_ASSIGN_OR_RETURN(std::string reply_to, config.String("mail.reply_to", ""));
  if (!reply_to.empty()) {
    ANSHIN_RETURN_IF_ERROR(anshin::CheckEmailAddress(reply_to).WithContext("mail.reply_to"));
    c.reply_to = reply_to;
  }
  ANSHIN_ASSIGN_OR_RETURN(c.message_id_domain, config.String("mail.message_id_domain",
                                                             c.from.substr(c.from.find('@') + 1)));
  ANSHIN_RETURN_IF_ERROR(anshin::mail::MakeMessageId("x", c.message_id_domain)
                             .status()
                             .WithContext("mail.message_id_domain"));
  ANSHIN_ASSIGN_OR_RETURN(std::int64_t connections,
                          config.Int("mail.connections", c.connections, 1, 64));
  c.connections = static_cast<int>(connections);
  ANSHIN_ASSIGN_OR_RETURN(std::int64_t batch,
                          config.Int("mail.batch_size", c.batch_size, 1, 10'000));
  c.batch_size = static_cast<int>(batch);
  ANSHIN_ASSIGN_OR_RETURN(c.retry_min, config.Duration("mail.retry_min", c.retry_min));
  ANSHIN_ASSIGN_OR_RETURN(c.retry_max, config.Duration("mail.retry_max", c.retry_max));
  ANSHIN_ASSIGN_OR_RETURN(c.max_age, config.Duration("mail.max_age", c.max_age));
  ANSHIN_ASSIGN_OR_RETURN(c.timeout, config.Duration("mail.timeout", c.timeout));
  if (c.retry_min.count() <= 0 || c.retry_max < c.retry_min) {
    return Status::InvalidArgument("mail.retry_max: must be at least mail.retry_min (> 0)");
  }
  if (c.timeout.count() < 1000) return Status::InvalidArgument("mail.timeout: must be at least 1s");
  ANSHIN_ASSIGN_OR_RETURN(c.public_url, config.String("mail.public_url", c.public_url));
  if (!c.public_url.starts_with("https://") && !c.public_url.starts_with("http://")) {
    return Status::InvalidArgument("mail.public_url: expected an http(s):// URL");
  }
  ANSHIN_RETURN_IF_ERROR(anshin::mail::ValidateHeaderText("mail.public_url", c.public_url));
  while (c.public_url.ends_with("/")) c.public_url.pop_back();
  ANSHIN_ASSIGN_OR_RETURN(c.templates_dir, config.Path("mail.templates_dir", {}));
  ANSHIN_ASSIGN_OR_RETURN(c.monthly_test, config.Bool("mail.monthly_test", false));
  ANSHIN_ASSIGN_OR_RETURN(c.iso2022jp_default, config.Bool("mail.iso2022jp_default", false));
  ANSHIN_ASSIGN_OR_RETURN(c.callcenter_phone, config.String("mail.callcenter_phone", ""));
  for (char ch : c.callcenter_phone) {
    const bool ok =
        (ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '(' || ch == ')' || ch == ' ';
    if (!ok || c.callcenter_phone.size() > 24) {
      return Status::InvalidArgument(
          "mail.callcenter_phone: expected a phone number such as \"03-1234-5678\", got \"" +
          c.callcenter_phone + "\"");
    }
  }
  return c;
}

}  // namespace anshin::server::mail

// The server.toml `anshin-admin init` writes: every key of the server's configuration, the
// operator's answers for the relay, STARTTLS, sender domain, public URL and call-centre number,
// and the documented defaults for the rest (docs/configuration.md describes each key).
#include <string_view>

#include "common/validate.hpp"
#include "provisioning/admin.hpp"

namespace anshin::admin {
namespace {

constexpr std::string_view kPlaceholderDomain = "kids-anshin.invalid";
constexpr std::string_view kPlaceholderUrl = "http://localhost:8080";

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

// https://host[:port][/path], or http:// on this machine only (a trial on one PC).
Status CheckPublicUrl(const std::string& url) {
  const bool local = url.starts_with("http://localhost") || url.starts_with("http://127.0.0.1");
  if (!url.starts_with("https://") && !local) {
    return Status::InvalidArgument("--public-url: \"" + url +
                                   "\" must be https:// (guardians open it from carrier mail)");
  }
  const std::string_view rest = std::string_view(url).substr(url.find("://") + 3);
  if (rest.empty() || rest.front() == '/' || rest.front() == ':') {
    return Status::InvalidArgument("--public-url: \"" + url + "\" has no host");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '<' || c == '>') {
      return Status::InvalidArgument("--public-url: \"" + url + "\" holds a space or quote");
    }
  }
  return Status::Ok();
}

Status CheckPhone(const std::string& phone) {
  for (char c : phone) {
    const bool ok =
        (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '(' || c == ')' || c == ' ';
    if (!ok || phone.size() > 24) {
      return Status::InvalidArgument(
          "--callcenter-phone: expected a number such as "
          "\"03-1234-5678\", got \"" +
          phone + "\"");
    }
  }
  return Status::Ok();
}

}  // namespace

std::vector<std::string> InitPlaceholders(const InitOptions& o) {
  std::vector<std::string> out;
  if (o.relay.empty()) out.push_back("--relay (smtp://127.0.0.1:25)");
  if (o.sender_domain.empty())
    out.push_back("--sender-domain (" + std::string(kPlaceholderDomain) + ")");
  if (o.public_url.empty()) out.push_back("--public-url (" + std::string(kPlaceholderUrl) + ")");
  if (o.callcenter_phone.empty()) out.push_back("--callcenter-phone (none)");
  return out;
}

Result<std::string> ServerToml(const InitOptions& o) {
  const std::string relay = o.relay.empty() ? "smtp://127.0.0.1:25" : o.relay;
  if (!relay.starts_with("smtp://") && !relay.starts_with("smtps://")) {
    return Status::InvalidArgument(
        "--relay: expected smtp://host:port (STARTTLS) or "
        "smtps://host:port, got \"" +
        relay + "\"");
  }
  const std::string starttls = o.starttls.empty() ? "required" : o.starttls;
  if (starttls != "required" && starttls != "none") {
    return Status::InvalidArgument("--starttls: expected \"required\" or \"none\", got \"" +
                                   starttls + "\"");
  }
  const std::string domain =
      o.sender_domain.empty() ? std::string(kPlaceholderDomain) : o.sender_domain;
  const std::string from = "noreply@" + domain;
  if (Status s = CheckEmailAddress(from); !s.ok()) {
    return Status::InvalidArgument("--sender-domain: \"" + domain + "\": " + s.message());
  }
  const std::string public_url = o.public_url.empty() ? std::string(kPlaceholderUrl) : o.public_url;
  ANSHIN_RETURN_IF_ERROR(CheckPublicUrl(public_url));
  ANSHIN_RETURN_IF_ERROR(CheckPhone(o.callcenter_phone));

  std::string t;
  t += "# anshin-server configuration, written by `anshin-admin init`. Every key is listed with\n"
       "# its value; docs/configuration.md describes each. Relative paths are resolved against\n"
       "# this file's folder. Check it with: anshin-server --config server.toml --check-config\n\n";
  t += "[server]\n"
       "agents_listen = \"0.0.0.0:8443\"    # mutual TLS: /v1/*, /healthz\n"
       "public_listen = \"127.0.0.1:8080\"  # plain HTTP: /healthz, /metrics, /verify (behind a "
       "TLS proxy)\n"
       "database = \"anshin.db\"\n"
       "log_level = \"info\"\n"
       "log_format = \"text\"\n"
       "workers = 2\n"
       "agents_max_connections = 1024\n"
       "agents_max_pending = 256\n"
       "agents_max_per_address = 0\n"
       "public_max_connections = 256\n"
       "public_max_pending = 64\n"
       "public_max_per_address = 8\n"
       "public_trusted_proxies = \"\"\n"
       "handshake_timeout = \"5s\"\n"
       "idle_timeout = \"30s\"\n"
       "request_timeout = \"10s\"\n"
       "synchronous = \"full\"\n"
       "card_key = \"card.key\"               # the console binds a new card by its IDm "
       "(\"\": by token only)\n\n";
  t += "[tls]\n"
       "cert = \"pki/server.crt\"\n"
       "key = \"pki/server.key\"\n"
       "client_ca = \"pki/ca.crt\"\n\n";
  t += "[retention]                        # purged daily at 03:00 (and by `anshin-admin purge`)\n"
       "months = 13                        # taps, visits and send history\n"
       "withdrawn_grace_days = 90          # then a withdrawn child's personal data goes\n\n";
  t += "[mail]\n";
  t += "relay = " + Quoted(relay) + "\n";
  t += "starttls = " + Quoted(starttls) +
       "  # \"required\" | \"none\" (a plain relay on a trusted host)\n";
  t += "username = \"\"                    # empty: no AUTH\n"
       "# password_file = \"/etc/anshin/smtp-password\"   # else $ANSHIN_SMTP_PASSWORD\n"
       "ca_file = \"\"                     # empty: the system's CA bundle\n";
  t += "from = " + Quoted(from) + "\n";
  t += "from_name = \"キッズ安心メール\"\n"
       "reply_to = \"\"\n";
  t += "message_id_domain = " + Quoted(domain) + "\n";
  t += "connections = 4\n"
       "batch_size = 64\n"
       "retry_min = \"30s\"\n"
       "retry_max = \"30m\"\n"
       "max_age = \"24h\"\n"
       "timeout = \"60s\"\n";
  t += "public_url = " + Quoted(public_url) + "  # base of the verification links\n";
  t += "callcenter_phone = " + Quoted(o.callcenter_phone) + "\n";
  t += "templates_dir = \"\"               # empty: the built-in texts\n"
       "monthly_test = false\n"
       "iso2022jp_default = false\n";
  return t;
}

}  // namespace anshin::admin

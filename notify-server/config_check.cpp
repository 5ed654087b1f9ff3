#include "notify-server/config_check.hpp"

#include <unistd.h>

#include <filesystem>
#include <string_view>
#include <vector>

#include "common/sys/cert_check.hpp"
#include "common/sys/sys.hpp"
#include "notify-server/http/server_config.hpp"
#include "notify-server/mail/mail_config.hpp"

namespace anshin::server {
namespace {

// "https://host:port/path" -> "host"; "" when the URL has no host.
std::string_view UrlHost(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.starts_with('[')) return rest.substr(0, rest.find(']') + 1);
  return rest.substr(0, rest.find(':'));
}

bool IsLocalHost(std::string_view host) {
  return host == "localhost" || host == "127.0.0.1" || host == "[::1]";
}

// Domains that never reach a guardian (RFC 2606 / 6761 names).
bool IsExampleDomain(std::string_view host) {
  for (std::string_view suffix : {"example", "example.com", "example.jp", "example.net",
                                  "example.org", "invalid", "test", "local", "localhost"}) {
    if (host == suffix) return true;
    if (host.size() > suffix.size() && host.ends_with(suffix) &&
        host[host.size() - suffix.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

void CheckDatabaseFolder(const std::filesystem::path& database, std::vector<std::string>& out) {
  const std::filesystem::path dir = database.parent_path().empty() ? "." : database.parent_path();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    out.push_back("server.database: the folder " + dir.string() + " does not exist");
  } else if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    out.push_back("server.database: the folder " + dir.string() +
                  " is not writable by this user (uid " + std::to_string(::geteuid()) +
                  "; run the check as the service user)");
  }
}

}  // namespace

std::string PublicUrlProblem(const std::string& url) {
  const std::string_view host = UrlHost(url);
  if (host.empty()) return "\"" + url + "\" is not a URL with a host";
  if (IsLocalHost(host)) return "";  // a test setup on this machine
  if (!url.starts_with("https://")) {
    return "\"" + url + "\" must be https:// (guardians open it from carrier mail)";
  }
  if (IsExampleDomain(host)) {
    return "\"" + url + "\" is an example or local domain: verification links would reach no one";
  }
  return "";
}

ServerConfigCheck CheckServerConfig(const std::filesystem::path& config_path, TimePoint now,
                                    const RelayProbe& probe_relay) {
  ServerConfigCheck out;
  Result<sys::Config> file = sys::Config::Load(config_path);
  if (!file.ok()) {
    out.problems.push_back(file.status().message());
    return out;
  }
  std::vector<std::string_view> known = ServerConfigKeys();
  known.insert(known.end(), mail::MailConfigKeys().begin(), mail::MailConfigKeys().end());
  out.problems = file->UnknownKeyProblems(known);

  Result<ServerConfig> server = LoadServerConfig(*file);
  if (!server.ok()) out.problems.push_back(server.status().message());
  Result<mail::MailConfig> mail_config = mail::LoadMailConfig(*file);
  if (!mail_config.ok()) out.problems.push_back(mail_config.status().message());

  if (server.ok()) {
    sys::CertificateFacts facts =
        sys::CheckCertificateFiles(sys::CertificateFiles{.cert_key = "tls.cert",
                                                         .key_key = "tls.key",
                                                         .ca_key = "tls.client_ca",
                                                         .cert = server->tls_cert,
                                                         .key = server->tls_key,
                                                         .ca = server->tls_client_ca},
                                   now, out.problems);
    if (facts.not_after) {
      out.notes.push_back("server certificate \"" + facts.common_name + "\" " +
                          sys::DescribeExpiry(*facts.not_after, now));
    }
    CheckDatabaseFolder(server->database, out.problems);
    if (Result<std::optional<CardKey>> key = LoadServerCardKey(*server); !key.ok()) {
      out.problems.push_back(key.status().message());
    } else if (*key) {
      std::error_code ec;
      using std::filesystem::perms;
      const perms mode = std::filesystem::status(server->card_key, ec).permissions();
      if (!ec && (mode & (perms::group_all | perms::others_all)) != perms::none) {
        out.problems.push_back("server.card_key: " + server->card_key.string() +
                               " is readable by other users (chmod 600 it)");
      } else {
        out.notes.push_back("the console binds replacement cards by IDm too (server.card_key)");
      }
    }
  }
  if (mail_config.ok()) {
    if (std::string p = PublicUrlProblem(mail_config->public_url); !p.empty()) {
      out.problems.push_back("mail.public_url: " + p);
    }
    const std::string domain = mail_config->from.substr(mail_config->from.find('@') + 1);
    if (IsExampleDomain(domain)) {
      out.problems.push_back("mail.from: \"" + mail_config->from +
                             "\" is an example address: carriers reject or filter it");
    }
    if (Status s = probe_relay(mail::SmtpOptionsFor(*mail_config)); !s.ok()) {
      out.problems.push_back("mail.relay: " + mail_config->relay + ": " + s.message());
    } else {
      out.notes.push_back("relay " + mail_config->relay + " answers (EHLO" +
                          (mail_config->require_starttls && mail_config->relay.starts_with("smtp:")
                               ? ", STARTTLS"
                               : "") +
                          (mail_config->username.empty() ? "" : ", AUTH") + ")");
    }
    out.notes.push_back("verification links on " + mail_config->public_url);
  }
  return out;
}

}  // namespace anshin::server

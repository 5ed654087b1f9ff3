#include "reader-agent/config_check.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <string_view>

#include "reader-agent/agent_config.hpp"
#include "reader-agent/curl_uplink.hpp"
#include "reader-agent/feedback.hpp"

namespace anshin::agent {
namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using StorePtr = std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)>;

// OpenSSL's error queue as text (and emptied).
std::string OpenSslError() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no PEM data" : out;
}

BioPtr OpenPem(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
}

std::string FormatAsn1Time(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string CommonName(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<std::size_t>(ASN1_STRING_length(data)));
}

// Problems with a certificate's validity period at `now`.
void CheckValidity(std::string_view key, X509* cert, std::time_t now,
                   std::vector<std::string>& problems) {
  if (X509_cmp_time(X509_get0_notAfter(cert), &now) < 0) {
    problems.push_back(std::string(key) + ": the certificate expired on " +
                       FormatAsn1Time(X509_get0_notAfter(cert)));
  }
  if (X509_cmp_time(X509_get0_notBefore(cert), &now) > 0) {
    problems.push_back(std::string(key) + ": the certificate is not valid before " +
                       FormatAsn1Time(X509_get0_notBefore(cert)) + " (is this PC's clock right?)");
  }
}

void CheckCertificates(const AgentConfig& c, TimePoint now, ConfigCheck& out) {
  auto& problems = out.problems;
  std::time_t now_t = static_cast<std::time_t>(ToUnixMillis(now) / 1000);
  auto read = [&](std::string_view key,
                  const std::filesystem::path& path) -> std::optional<std::string> {
    auto text = sys::ReadFile(path);
    if (!text.ok()) {
      problems.push_back(std::string(key) + ": " + text.status().message());
      return std::nullopt;
    }
    return *text;
  };
  auto cert_pem = read("uplink.cert", c.cert);
  auto key_pem = read("uplink.key", c.key);
  auto ca_pem = read("uplink.ca", c.ca);

  X509Ptr cert(nullptr, X509_free);
  if (cert_pem) {
    BioPtr bio = OpenPem(*cert_pem);
    cert.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      problems.push_back("uplink.cert: " + c.cert.string() + " is not a PEM certificate (" +
                         OpenSslError() + ")");
    }
  }
  KeyPtr key(nullptr, EVP_PKEY_free);
  if (key_pem) {
    BioPtr bio = OpenPem(*key_pem);
    // No passphrase callback: the agent starts unattended, so its key must not be encrypted.
    key.reset(PEM_read_bio_PrivateKey(
        bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
    if (!key) {
      problems.push_back("uplink.key: " + c.key.string() +
                         " is not an unencrypted PEM private key (" + OpenSslError() + ")");
    }
  }
  StorePtr store(X509_STORE_new(), X509_STORE_free);
  int ca_count = 0;
  if (ca_pem) {
    BioPtr bio = OpenPem(*ca_pem);
    while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      X509Ptr owned(ca, X509_free);
      CheckValidity("uplink.ca", ca, now_t, problems);
      X509_STORE_add_cert(store.get(), ca);
      ++ca_count;
    }
    ERR_clear_error();  // the end of the file
    if (ca_count == 0) {
      problems.push_back("uplink.ca: " + c.ca.string() + " holds no PEM certificate");
    }
  }
  if (cert && key && X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    problems.push_back("uplink.key: " + c.key.string() + " does not match the certificate " +
                       c.cert.string());
  }
  if (!cert) return;
  CheckValidity("uplink.cert", cert.get(), now_t, problems);
  std::string cn = CommonName(cert.get());
  if (!c.name.empty() && cn != c.name) {
    problems.push_back("agent.name: \"" + c.name + "\" is not the certificate's name (CN \"" + cn +
                       "\"); the server knows the agent by its certificate");
  }
  if (ca_count > 0) {
    StoreCtxPtr ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
    X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr);
    // The validity periods are reported above, with dates; here only the signature chain.
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME);
    if (X509_verify_cert(ctx.get()) != 1) {
      problems.push_back("uplink.cert: " + c.cert.string() + " was not issued by the CA in " +
                         c.ca.string() + " (" +
                         X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())) + ")");
    }
    ERR_clear_error();
  }
  std::unique_ptr<ASN1_TIME, decltype(&ASN1_TIME_free)> at(ASN1_TIME_set(nullptr, now_t),
                                                           ASN1_TIME_free);
  int days = 0, seconds = 0;
  if (at && ASN1_TIME_diff(&days, &seconds, at.get(), X509_get0_notAfter(cert.get())) == 1) {
    out.notes.push_back("certificate of \"" + cn + "\" valid until " +
                        FormatAsn1Time(X509_get0_notAfter(cert.get())) + " (" +
                        std::to_string(days) + " days)");
  }
}

// The database's folder must exist and be writable (by the user running the check).
void CheckDatabase(const AgentConfig& c, std::vector<std::string>& problems) {
  std::filesystem::path dir = c.database.parent_path();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    problems.push_back("agent.database: the folder " + dir.string() + " does not exist");
  } else if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    problems.push_back("agent.database: the folder " + dir.string() +
                       " is not writable by this user (uid " + std::to_string(::geteuid()) +
                       "; run the check as the service user)");
  }
}

// A feedback command must split and name a program that exists.
void CheckCommand(std::string_view key, const std::string& command,
                  std::vector<std::string>& problems) {
  if (command.empty()) return;
  auto argv = SplitCommand(command);
  if (!argv.ok()) {
    problems.push_back(std::string(key) + ": " + argv.status().message());
    return;
  }
  if (argv->empty()) return;
  const std::string& program = argv->front();
  auto executable = [](const std::filesystem::path& p) { return ::access(p.c_str(), X_OK) == 0; };
  bool found = false;
  if (program.find('/') != std::string::npos) {
    found = executable(program);
  } else if (const char* path = std::getenv("PATH")) {
    std::string_view rest = path;
    while (!found) {
      auto colon = rest.find(':');
      std::string_view dir = rest.substr(0, colon);
      if (!dir.empty()) found = executable(std::filesystem::path(dir) / program);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  if (!found) {
    problems.push_back(std::string(key) + ": the program \"" + program +
                       "\" is not found or not executable");
  }
}

}  // namespace

ConfigCheck CheckAgentConfig(const std::filesystem::path& config_path, TimePoint now) {
  ConfigCheck out;
  auto file = sys::Config::Load(config_path);
  if (!file.ok()) {
    out.problems.push_back(file.status().message());
    return out;
  }
  AgentConfigLoad load = LoadAgentConfigAll(*file, ConfigUse::kRun);
  out.problems = std::move(load.problems);
  const AgentConfig& c = load.config;
  if (!c.server_url.empty()) {
    if (Status s = CheckServerUrl(c.server_url); !s.ok()) out.problems.push_back(s.message());
  }
  std::error_code ec;
  bool files = !c.cert.empty() && !c.key.empty() && !c.ca.empty() &&
               std::filesystem::is_regular_file(c.cert, ec) &&
               std::filesystem::is_regular_file(c.key, ec) &&
               std::filesystem::is_regular_file(c.ca, ec);
  if (files) CheckCertificates(c, now, out);
  CheckDatabase(c, out.problems);
  CheckCommand("feedback.accepted", c.accepted_command, out.problems);
  CheckCommand("feedback.not_registered", c.not_registered_command, out.problems);
  CheckCommand("feedback.reader_error", c.reader_error_command, out.problems);
  if (out.problems.empty()) {
    out.notes.insert(out.notes.begin(),
                     "agent \"" + c.name + "\", server " + c.server_url + ", reader " +
                         (c.device.empty() ? std::string("(libnfc's default)") : c.device) +
                         ", heartbeat " +
                         (c.heartbeat.enabled()
                              ? "every " + std::to_string(c.heartbeat.interval.count() / 1000) +
                                    " s in opening hours"
                              : std::string("off")));
  }
  return out;
}

}  // namespace anshin::agent

#include "common/sys/cert_check.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <ctime>
#include <memory>
#include <string_view>

#include "common/sys/sys.hpp"

namespace anshin::sys {
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

std::optional<TimePoint> ToTimePoint(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return FromUnixMillis(static_cast<std::int64_t>(timegm(&tm)) * 1000);
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
                       FormatAsn1Time(X509_get0_notBefore(cert)) +
                       " (is this machine's clock right?)");
  }
}

}  // namespace

CertificateFacts CheckCertificateFiles(const CertificateFiles& f, TimePoint now,
                                       std::vector<std::string>& problems) {
  CertificateFacts facts;
  const std::time_t now_t = static_cast<std::time_t>(ToUnixMillis(now) / 1000);
  auto read = [&](const std::string& key,
                  const std::filesystem::path& path) -> std::optional<std::string> {
    auto text = ReadFile(path);
    if (!text.ok()) {
      problems.push_back(key + ": " + text.status().message());
      return std::nullopt;
    }
    return *text;
  };
  auto cert_pem = read(f.cert_key, f.cert);
  auto key_pem = read(f.key_key, f.key);
  auto ca_pem = read(f.ca_key, f.ca);

  X509Ptr cert(nullptr, X509_free);
  if (cert_pem) {
    BioPtr bio = OpenPem(*cert_pem);
    cert.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      problems.push_back(f.cert_key + ": " + f.cert.string() + " is not a PEM certificate (" +
                         OpenSslError() + ")");
    }
  }
  KeyPtr key(nullptr, EVP_PKEY_free);
  if (key_pem) {
    BioPtr bio = OpenPem(*key_pem);
    // No passphrase callback: the services start unattended, so keys must not be encrypted.
    key.reset(PEM_read_bio_PrivateKey(
        bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
    if (!key) {
      problems.push_back(f.key_key + ": " + f.key.string() +
                         " is not an unencrypted PEM private key (" + OpenSslError() + ")");
    }
  }
  StorePtr store(X509_STORE_new(), X509_STORE_free);
  int ca_count = 0;
  if (ca_pem) {
    BioPtr bio = OpenPem(*ca_pem);
    while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      X509Ptr owned(ca, X509_free);
      CheckValidity(f.ca_key, ca, now_t, problems);
      X509_STORE_add_cert(store.get(), ca);
      ++ca_count;
    }
    ERR_clear_error();  // the end of the file
    if (ca_count == 0) {
      problems.push_back(f.ca_key + ": " + f.ca.string() + " holds no PEM certificate");
    }
  }
  if (cert && key && X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    problems.push_back(f.key_key + ": " + f.key.string() + " does not match the certificate " +
                       f.cert.string());
  }
  if (!cert) return facts;
  CheckValidity(f.cert_key, cert.get(), now_t, problems);
  facts.common_name = CommonName(cert.get());
  facts.not_after = ToTimePoint(X509_get0_notAfter(cert.get()));
  if (ca_count > 0) {
    StoreCtxPtr ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
    X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr);
    // The validity periods are reported above, with dates; here only the signature chain.
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME);
    if (X509_verify_cert(ctx.get()) != 1) {
      problems.push_back(f.cert_key + ": " + f.cert.string() + " was not issued by the CA in " +
                         f.ca.string() + " (" +
                         X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())) + ")");
    }
    ERR_clear_error();
  }
  return facts;
}

std::string DescribeExpiry(TimePoint not_after, TimePoint now) {
  const auto days = std::chrono::duration_cast<std::chrono::hours>(not_after - now).count() / 24;
  return "valid until " + FormatRfc3339(not_after) + " (" + std::to_string(days) + " days)";
}

}  // namespace anshin::sys

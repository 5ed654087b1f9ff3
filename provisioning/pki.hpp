// The deployment's PKI with OpenSSL 3 (EVP/X509 APIs, no openssl CLI): ECDSA P-256 keys, the
// deployment CA, the server certificate (serverAuth, SANs) and agent client certificates
// (clientAuth, CN = agent name), optionally from a CSR so an agent's key never leaves its PC.
//
// Values own their OpenSSL objects (unique_ptr with the matching free function); they are not
// shared between threads. Failures carry OpenSSL's error queue text.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "common/time.hpp"

namespace anshin::admin {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using PrivateKey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Certificate = std::unique_ptr<X509, X509Free>;

Result<PrivateKey> GenerateP256Key();
Result<std::string> PrivateKeyPem(EVP_PKEY* key);  // PKCS#8, unencrypted
Result<PrivateKey> ParsePrivateKeyPem(std::string_view pem);
Result<std::string> CertificatePem(X509* cert);
Result<Certificate> ParseCertificatePem(std::string_view pem);
// Lowercase hex SHA-256 of the certificate's DER encoding (what the server compares).
Result<std::string> CertificateSha256(X509* cert);
// The certificate's notAfter (to the second).
Result<TimePoint> CertificateNotAfter(X509* cert);

struct CertSpec {
  std::string common_name;
  TimePoint not_before;
  std::chrono::days validity{825};
};

Result<Certificate> MakeCaCertificate(EVP_PKEY* ca_key, const CertSpec& spec);
// `sans`: host names and IP addresses (IPv4/IPv6 literals become IP SANs).
Result<Certificate> IssueServerCertificate(X509* ca, EVP_PKEY* ca_key, EVP_PKEY* subject_key,
                                           const CertSpec& spec,
                                           const std::vector<std::string>& sans);
Result<Certificate> IssueClientCertificate(X509* ca, EVP_PKEY* ca_key, EVP_PKEY* subject_key,
                                           const CertSpec& spec);

// Parses a PEM CSR, checks its self-signature and that its key is ECDSA P-256, and returns the
// public key (the CSR's subject is ignored: the CA names the agent).
Result<PrivateKey> PublicKeyFromCsr(std::string_view pem);

}  // namespace anshin::admin

#include "provisioning/pki.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>

namespace anshin::admin {
namespace {

struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

Status OpensslError(std::string_view what) {
  std::string msg(what);
  unsigned long e;
  bool first = true;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    msg += first ? ": " : "; ";
    msg += buf;
    first = false;
  }
  return Status::Internal(msg);
}

Bio MemBio(std::string_view data) {
  return Bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioString(BIO* bio) {
  char* p = nullptr;
  long n = BIO_get_mem_data(bio, &p);
  return std::string(p, static_cast<size_t>(n));
}

Status AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr)
    return OpensslError(std::string("extension ") + OBJ_nid2sn(nid) + "=" + value);
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return OpensslError("adding an extension");
  return Status::Ok();
}

// A certificate with serial, validity, subject, issuer and public key set; not yet signed.
Result<Certificate> NewCert(X509* issuer, EVP_PKEY* subject_key, const CertSpec& spec) {
  Certificate cert(X509_new());
  if (!cert) return OpensslError("X509_new");
  X509_set_version(cert.get(), 2);  // v3
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return OpensslError("RAND_bytes");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  ASN1_INTEGER* ai = BN_to_ASN1_INTEGER(bn, nullptr);
  BN_free(bn);
  if (ai == nullptr) return OpensslError("serial");
  X509_set_serialNumber(cert.get(), ai);
  ASN1_INTEGER_free(ai);
  const time_t nb =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(
          spec.not_before - std::chrono::minutes(5)));  // small allowance for clock drift
  if (X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0, const_cast<time_t*>(&nb)) ==
          nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(spec.validity.count()), 0,
                       const_cast<time_t*>(&nb)) == nullptr) {
    return OpensslError("validity");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("anshin"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
                                 -1, -1, 0) != 1) {
    return OpensslError("subject name \"" + spec.common_name + "\"");
  }
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  if (X509_set_pubkey(cert.get(), subject_key) != 1) return OpensslError("X509_set_pubkey");
  return cert;
}

Result<Certificate> Sign(Certificate cert, EVP_PKEY* key) {
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) return OpensslError("signing the certificate");
  return cert;
}

}  // namespace

Result<PrivateKey> GenerateP256Key() {
  PrivateKey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return OpensslError("generating an ECDSA P-256 key");
  return key;
}

Result<std::string> PrivateKeyPem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpensslError("writing the private key");
  }
  return BioString(bio.get());
}

Result<PrivateKey> ParsePrivateKeyPem(std::string_view pem) {
  Bio bio = MemBio(pem);
  PrivateKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return OpensslError("reading the private key");
  return key;
}

Result<std::string> CertificatePem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), cert) != 1) return OpensslError("writing the certificate");
  return BioString(bio.get());
}

Result<Certificate> ParseCertificatePem(std::string_view pem) {
  Bio bio = MemBio(pem);
  Certificate cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return OpensslError("reading the certificate");
  return cert;
}

Result<std::string> CertificateSha256(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return OpensslError("certificate digest");
  std::string hex;
  hex.reserve(n * 2);
  for (unsigned int i = 0; i < n; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", md[i]);
    hex += b;
  }
  return hex;
}

Result<TimePoint> CertificateNotAfter(X509* cert) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return OpensslError("notAfter");
  const time_t t = timegm(&tm);
  return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::from_time_t(t));
}

Result<Certificate> MakeCaCertificate(EVP_PKEY* ca_key, const CertSpec& spec) {
  ANSHIN_ASSIGN_OR_RETURN(Certificate cert, NewCert(nullptr, ca_key, spec));
  X509* c = cert.get();
  ANSHIN_RETURN_IF_ERROR(AddExt(c, c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  ANSHIN_RETURN_IF_ERROR(AddExt(c, c, NID_key_usage, "critical,keyCertSign,cRLSign"));
  ANSHIN_RETURN_IF_ERROR(AddExt(c, c, NID_subject_key_identifier, "hash"));
  return Sign(std::move(cert), ca_key);
}

Result<Certificate> IssueServerCertificate(X509* ca, EVP_PKEY* ca_key, EVP_PKEY* subject_key,
                                           const CertSpec& spec,
                                           const std::vector<std::string>& sans) {
  if (sans.empty())
    return Status::InvalidArgument("server-san: at least one name or address is required");
  std::string san_value;
  for (const std::string& s : sans) {
    if (s.empty() || s.find_first_of(", \t\r\n") != std::string::npos) {
      return Status::InvalidArgument("server-san: \"" + s + "\" is not a host name or address");
    }
    unsigned char buf[16];
    bool ip = inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
    if (!san_value.empty()) san_value += ',';
    san_value += (ip ? "IP:" : "DNS:") + s;
  }
  ANSHIN_ASSIGN_OR_RETURN(Certificate cert, NewCert(ca, subject_key, spec));
  X509* c = cert.get();
  ANSHIN_RETURN_IF_ERROR(AddExt(c, ca, NID_basic_constraints, "critical,CA:FALSE"));
  ANSHIN_RETURN_IF_ERROR(AddExt(c, ca, NID_key_usage, "critical,digitalSignature"));
  ANSHIN_RETURN_IF_ERROR(AddExt(c, ca, NID_ext_key_usage, "serverAuth"));
  ANSHIN_RETURN_IF_ERROR(AddExt(c, ca, NID_subject_key_identifier, "hash"));
  ANSHIN_RETURN_IF_ERROR(AddExt(c, ca, NID_authority_key_identifier, "keyid:always"));
  ANSHIN_RETURN_IF_ERROR(AddExt(c, ca, NID_subject_alt_name, san_value.c_str()));
  return Sign(std::move(cert), ca_key);
}

Result<Certificate> IssueClientCertificate(X509* ca, EVP_PKEY* ca_key, EVP_PKEY* subject_key,
                                           const CertSpec& spec) {
  ANSHIN_ASSIGN_OR_RETURN(Certificate cert, NewCert(ca, subject_key, spec));
  X509* c = cert.get();
  ANSHIN_RETURN_IF_ERROR(AddExt(c, ca, NID_basic_constraints, "critical,CA:FALSE"));
  ANSHIN_RETURN_IF_ERROR(AddExt(c, ca, NID_key_usage, "critical,digitalSignature"));
  ANSHIN_RETURN_IF_ERROR(AddExt(c, ca, NID_ext_key_usage, "clientAuth"));
  ANSHIN_RETURN_IF_ERROR(AddExt(c, ca, NID_subject_key_identifier, "hash"));
  ANSHIN_RETURN_IF_ERROR(AddExt(c, ca, NID_authority_key_identifier, "keyid:always"));
  return Sign(std::move(cert), ca_key);
}

Result<PrivateKey> PublicKeyFromCsr(std::string_view pem) {
  Bio bio = MemBio(pem);
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> req(
      PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr), X509_REQ_free);
  if (!req) return OpensslError("csr: not a PEM certificate request");
  PrivateKey key(X509_REQ_get_pubkey(req.get()));
  if (!key) return OpensslError("csr: no public key");
  if (X509_REQ_verify(req.get(), key.get()) != 1)
    return OpensslError("csr: the signature does not verify");
  char group[64] = {0};
  size_t len = 0;
  if (!EVP_PKEY_is_a(key.get(), "EC") ||
      EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                     &len) != 1 ||
      std::string_view(group) != "prime256v1") {
    ERR_clear_error();
    return Status::InvalidArgument("csr: the key must be ECDSA P-256");
  }
  return key;
}

}  // namespace anshin::admin

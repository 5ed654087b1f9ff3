// CertForge: client certificates an attacker (or bad luck) would present, made with OpenSSL in
// the test: signed by a deployment's own CA (read from its pki/ca.{crt,key}) but expired or for a
// key that was never enrolled, or self-signed with the same subject as an enrolled agent. Writes
// PEM files; throws on OpenSSL failures (test set-up errors).
#pragma once

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace anshin::hostile {

struct ForgedCert {
  std::filesystem::path cert, key;
};

class CertForge {
 public:
  // `ca_cert` / `ca_key`: the deployment CA (PEM).
  CertForge(const std::filesystem::path& ca_cert, const std::filesystem::path& ca_key) {
    ca_ = ReadPem<X509>(ca_cert, PEM_read_X509);
    ca_key_ = ReadPem<EVP_PKEY>(ca_key, PEM_read_PrivateKey);
  }
  ~CertForge() {
    X509_free(ca_);
    EVP_PKEY_free(ca_key_);
  }
  CertForge(const CertForge&) = delete;
  CertForge& operator=(const CertForge&) = delete;

  // A client certificate for CN `cn` on a fresh key, valid from now+not_before to now+not_after
  // (seconds; negative = in the past), signed by the CA or, when `self_signed`, by its own key.
  ForgedCert Issue(const std::filesystem::path& out_prefix, const std::string& cn, long not_before,
                   long not_after, bool self_signed = false) const {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    if (key == nullptr) throw std::runtime_error("EVP_EC_gen");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial_);
    X509_gmtime_adj(X509_getm_notBefore(cert), not_before);
    X509_gmtime_adj(X509_getm_notAfter(cert), not_after);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert, self_signed ? name : X509_get_subject_name(ca_));
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, self_signed ? cert : ca_, cert, nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_basic_constraints, "CA:FALSE"},
                              std::pair{NID_key_usage, "critical,digitalSignature"},
                              std::pair{NID_ext_key_usage, "clientAuth"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      if (ext == nullptr) throw std::runtime_error(std::string("extension ") + value);
      X509_add_ext(cert, ext, -1);
      X509_EXTENSION_free(ext);
    }
    if (X509_sign(cert, self_signed ? key : ca_key_, EVP_sha256()) == 0) {
      throw std::runtime_error("X509_sign");
    }
    ForgedCert out{out_prefix.string() + ".crt", out_prefix.string() + ".key"};
    FILE* c = std::fopen(out.cert.c_str(), "w");
    FILE* k = std::fopen(out.key.c_str(), "w");
    if (c == nullptr || k == nullptr) throw std::runtime_error("cannot write " + out.cert.string());
    PEM_write_X509(c, cert);
    PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(c);
    std::fclose(k);
    X509_free(cert);
    EVP_PKEY_free(key);
    return out;
  }

 private:
  template <class T, class Reader>
  static T* ReadPem(const std::filesystem::path& path, Reader read) {
    FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) throw std::runtime_error("cannot read " + path.string());
    T* value = read(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (value == nullptr) throw std::runtime_error("not PEM: " + path.string());
    return value;
  }

  X509* ca_ = nullptr;
  EVP_PKEY* ca_key_ = nullptr;
  mutable long serial_ = 1'000'000;
};

}  // namespace anshin::hostile

// TestPki: a throw-away deployment CA with a server certificate (CN=server, SAN 127.0.0.1) and
// client certificates, all ECDSA P-256, written as PEM files into a folder. For tests of the TLS
// listener without anshin-admin.
#pragma once

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace anshin::server::testing {

class TestPki {
 public:
  explicit TestPki(std::filesystem::path dir) : dir_(std::move(dir)) {
    ca_key_ = NewKey();
    ca_ = Sign("anshin-test-ca", ca_key_, nullptr, ca_key_, true, "");
    WritePem("ca.crt", ca_, nullptr);
    EVP_PKEY* server_key = NewKey();
    X509* server = Sign("server", server_key, ca_, ca_key_, false, "IP:127.0.0.1");
    WritePem("server.crt", server, server_key);
    X509_free(server);
    EVP_PKEY_free(server_key);
  }
  ~TestPki() {
    X509_free(ca_);
    EVP_PKEY_free(ca_key_);
  }
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  // Writes <name>.crt / <name>.key for a client certificate with CN `name`.
  void IssueClient(const std::string& name) {
    EVP_PKEY* key = NewKey();
    X509* cert = Sign(name, key, ca_, ca_key_, false, "");
    WritePem(name + ".crt", cert, key);
    X509_free(cert);
    EVP_PKEY_free(key);
  }

  std::filesystem::path operator/(const std::string& file) const { return dir_ / file; }

 private:
  static EVP_PKEY* NewKey() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    if (key == nullptr) throw std::runtime_error("EVP_EC_gen failed");
    return key;
  }

  static X509* Sign(const std::string& cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                    bool ca, const std::string& san) {
    static long serial = 1;
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, nullptr, nullptr, 0);
    auto add = [&](int nid, const std::string& value) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
      if (ext == nullptr) throw std::runtime_error("extension " + value);
      X509_add_ext(cert, ext, -1);
      X509_EXTENSION_free(ext);
    };
    add(NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    add(NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    if (!san.empty()) add(NID_subject_alt_name, san);
    if (X509_sign(cert, issuer_key, EVP_sha256()) == 0) throw std::runtime_error("X509_sign");
    return cert;
  }

  void WritePem(const std::string& file, X509* cert, EVP_PKEY* key) {
    FILE* f = std::fopen((dir_ / file).c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
    if (key != nullptr) {
      std::string key_file = file.substr(0, file.size() - 4) + ".key";
      FILE* k = std::fopen((dir_ / key_file).c_str(), "w");
      PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr);
      std::fclose(k);
    }
  }

  std::filesystem::path dir_;
  EVP_PKEY* ca_key_ = nullptr;
  X509* ca_ = nullptr;
};

}  // namespace anshin::server::testing

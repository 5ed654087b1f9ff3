#include "notify-server/http/tls.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <filesystem>
#include <system_error>
#include <utility>

namespace anshin::server {
namespace {

// TLS 1.2 suites: forward secrecy and AEAD only. TLS 1.3 suites are all AEAD (OpenSSL default).
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";
constexpr char kGroups[] = "X25519:P-256:P-384";
// Binds cached sessions to this service; required for resumption with client certificates.
constexpr unsigned char kSessionIdContext[] = "anshin-agents-v1";

std::string Hex(const unsigned char* data, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

}  // namespace

std::string OpenSslError() {
  unsigned long code = 0;
  unsigned long last = 0;
  while ((code = ERR_get_error()) != 0) last = code;
  if (last == 0) return "unknown OpenSSL error";
  std::array<char, 256> buf{};
  ERR_error_string_n(last, buf.data(), buf.size());
  return buf.data();
}

namespace {

Status CheckFiles(std::initializer_list<std::pair<const char*, std::filesystem::path>> files) {
  for (const auto& [key, path] : files) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      return Status::FailedPrecondition(std::string(key) + " " + path.string() + ": no such file");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<asio::ssl::context>> MakeServerTlsContext(
    const std::filesystem::path& cert_file, const std::filesystem::path& key_file) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  auto fail = [&](const std::string& what) {
    return Status::FailedPrecondition(what + ": " + OpenSslError());
  };
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) return fail("TLS min version");
  SSL_CTX_set_options(
      native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) return fail("TLS 1.2 ciphers");
  if (SSL_CTX_set1_groups_list(native, kGroups) != 1) return fail("TLS groups");
  ANSHIN_RETURN_IF_ERROR(CheckFiles({{"tls.cert", cert_file}, {"tls.key", key_file}}));
  const std::string cert = cert_file.string();
  const std::string key = key_file.string();
  if (SSL_CTX_use_certificate_chain_file(native, cert.c_str()) != 1) {
    return fail("tls.cert " + cert);
  }
  if (SSL_CTX_use_PrivateKey_file(native, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return fail("tls.key " + key);
  }
  if (SSL_CTX_check_private_key(native) != 1) return fail("tls.key does not match tls.cert");

  // Resumption: server-side cache for session IDs, plus tickets (enabled by OpenSSL's default).
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(native, 20'000);
  SSL_CTX_set_timeout(native, 2 * 3600);
  if (SSL_CTX_set_session_id_context(native, kSessionIdContext, sizeof kSessionIdContext - 1) !=
      1) {
    return fail("session id context");
  }
  // One TLS 1.3 ticket per handshake is enough for an agent that reconnects serially.
  SSL_CTX_set_num_tickets(native, 1);
  return ctx;
}

Result<std::unique_ptr<asio::ssl::context>> MakeAgentTlsContext(const TlsFiles& files) {
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<asio::ssl::context> ctx,
                          MakeServerTlsContext(files.cert, files.key));
  SSL_CTX* native = ctx->native_handle();
  auto fail = [&](const std::string& what) {
    return Status::FailedPrecondition(what + ": " + OpenSslError());
  };
  ANSHIN_RETURN_IF_ERROR(CheckFiles({{"tls.client_ca", files.client_ca}}));
  const std::string ca = files.client_ca.string();
  if (SSL_CTX_load_verify_locations(native, ca.c_str(), nullptr) != 1) {
    return fail("tls.client_ca " + ca);
  }
  // Tell clients which CA we accept (curl and OpenSSL pick their certificate by it).
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str());
  if (names == nullptr) return fail("tls.client_ca " + ca);
  SSL_CTX_set_client_CA_list(native, names);
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_verify_depth(native, 3);
  return ctx;
}

Result<Peer> PeerOf(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return Status::Unauthenticated("no client certificate");
  if (SSL_get_verify_result(ssl) != X509_V_OK) {
    return Status::Unauthenticated("client certificate not verified");
  }
  Peer peer;
  X509_NAME* subject = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return Status::Unauthenticated("client certificate has no subject CN");
  ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, cn);
  if (len < 0) return Status::Unauthenticated("client certificate CN is not text");
  peer.agent_name.assign(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);

  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  if (X509_digest(cert, EVP_sha256(), md.data(), &md_len) != 1) {
    return Status::Internal("certificate digest: " + OpenSslError());
  }
  peer.cert_sha256 = Hex(md.data(), md_len);
  return peer;
}

}  // namespace anshin::server

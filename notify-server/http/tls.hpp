// TLS for the agents listener: the server context (mutual TLS against the deployment CA) and the
// identity a verified peer proves.
//
// The context allows TLS 1.2 and 1.3 only, AEAD ciphers with ECDHE, and requires a client
// certificate that chains to `client_ca` (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
// Session resumption works both ways: a server-side session cache (TLS 1.2 session IDs) and
// session tickets (TLS 1.2 and 1.3), so an agent that reconnects for each upload skips the full
// handshake. A resumed session keeps the peer certificate, so PeerOf works on it too.
//
// The context is built once at start-up and then only read; asio::ssl::context is safe to share
// between the streams of one io_context.
#pragma once

#include "notify-server/http/net.hpp"

#include <filesystem>
#include <memory>

#include "common/status.hpp"
#include "notify-server/services.hpp"

namespace anshin::server {

struct TlsFiles {
  std::filesystem::path cert;       // server certificate chain (PEM), ECDSA P-256
  std::filesystem::path key;        // its private key (PEM)
  std::filesystem::path client_ca;  // the deployment CA that signs agent certificates
};

// The server side of anshin's TLS policy, without client authentication: TLS 1.2/1.3, the AEAD
// ECDHE suites and groups above, no compression or renegotiation, session resumption. For a
// listener whose clients have no certificate (a later staff console; the testssl scan of the
// policy in tests/hostile/). Fails with the file and OpenSSL's message.
Result<std::unique_ptr<asio::ssl::context>> MakeServerTlsContext(const std::filesystem::path& cert,
                                                                 const std::filesystem::path& key);

// MakeServerTlsContext plus mutual TLS: a client certificate chaining to `client_ca` is required.
// Fails with the file and OpenSSL's message when a file is missing or does not match.
Result<std::unique_ptr<asio::ssl::context>> MakeAgentTlsContext(const TlsFiles& files);

// The verified peer of a completed handshake: subject CN and SHA-256 of the DER certificate.
// Unauthenticated when there is no certificate or it has no CN.
Result<Peer> PeerOf(SSL* ssl);

// The last OpenSSL error queue entry as text ("error:0A000086:SSL routines::..."); clears it.
std::string OpenSslError();

}  // namespace anshin::server

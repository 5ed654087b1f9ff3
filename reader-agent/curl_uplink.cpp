#include "reader-agent/curl_uplink.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <optional>

namespace anshin::agent {
namespace {

constexpr std::size_t kMaxResponseBytes = 16 << 20;  // an allowlist of a large ward fits easily

std::once_flag curl_init_once;

size_t Append(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * n > kMaxResponseBytes) return 0;  // aborts the transfer
  out->append(data, size * n);
  return size * n;
}

class CurlSession final : public UplinkSession {
 public:
  explicit CurlSession(const CurlUplinkOptions& options) : options_(options) {
    curl_ = curl_easy_init();
    headers_ = curl_slist_append(headers_, "Content-Type: application/json");
    headers_ = curl_slist_append(headers_, "Accept: application/json");
    // No "Expect: 100-continue" round trip before larger batches.
    headers_ = curl_slist_append(headers_, "Expect:");
  }
  ~CurlSession() override {
    curl_slist_free_all(headers_);
    if (curl_) curl_easy_cleanup(curl_);
  }

  Result<wire::TapAck> PostTaps(const wire::TapBatch& batch) override {
    std::string body = wire::Serialize(batch);
    ANSHIN_ASSIGN_OR_RETURN(std::string response, Request("/v1/taps", &body));
    auto ack = wire::ParseTapAck(response);
    if (!ack.ok()) return Status::Internal("POST /v1/taps: bad answer: " + ack.status().message());
    return ack;
  }

  Result<wire::AllowlistDelta> FetchAllowlist(std::uint64_t since) override {
    ANSHIN_ASSIGN_OR_RETURN(std::string response,
                            Request("/v1/allowlist?since=" + std::to_string(since), nullptr));
    auto delta = wire::ParseAllowlistDelta(response);
    if (!delta.ok()) {
      return Status::Internal("GET /v1/allowlist: bad answer: " + delta.status().message());
    }
    return delta;
  }

 private:
  // POSTs `body` when given, else GETs. Returns the body of a 2xx answer.
  Result<std::string> Request(const std::string& path, const std::string* body) {
    if (!curl_) return Status::Internal("curl_easy_init failed");
    const std::string what = (body ? "POST " : "GET ") + path.substr(0, path.find('?'));
    std::string url = options_.server_url + path;
    std::string response;
    char error[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_SSLCERT, options_.cert.c_str());
    curl_easy_setopt(curl_, CURLOPT_SSLKEY, options_.key.c_str());
    curl_easy_setopt(curl_, CURLOPT_CAINFO, options_.ca.c_str());
    curl_easy_setopt(curl_, CURLOPT_CAPATH, nullptr);  // the deployment CA only
    curl_easy_setopt(curl_, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Append);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error);
    if (body) {
      curl_easy_setopt(curl_, CURLOPT_POST, 1L);
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body->data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    } else {
      curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    }
    CURLcode rc = curl_easy_perform(curl_);
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, nullptr);
    if (rc != CURLE_OK) {
      std::string message = error[0] ? error : curl_easy_strerror(rc);
      return Status::Unavailable(what + ": " + message);
    }
    long http = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &http);
    if (http < 200 || http > 299) return StatusOfHttp(http, what, response);
    return response;
  }

  const CurlUplinkOptions options_;
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
};

}  // namespace

Status CheckServerUrl(std::string_view url) {
  auto bad = [&](std::string why) {
    return Status::InvalidArgument("uplink.server_url: \"" + std::string(url) + "\": " + why);
  };
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  if (!u) return Status::Internal("curl_url: out of memory");
  std::string text(url);
  if (CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0); rc != CURLUE_OK) {
    return bad(std::string("not a URL (") + curl_url_strerror(rc) + ")");
  }
  auto part = [&](CURLUPart which) -> std::optional<std::string> {
    char* value = nullptr;
    if (curl_url_get(u.get(), which, &value, 0) != CURLUE_OK || value == nullptr) {
      return std::nullopt;
    }
    std::string out = value;
    curl_free(value);
    return out;
  };
  if (part(CURLUPART_SCHEME) != "https") return bad("must start with https://");
  auto host = part(CURLUPART_HOST);
  if (!host || host->empty()) return bad("no host name");
  if (part(CURLUPART_USER) || part(CURLUPART_PASSWORD)) {
    return bad("must not hold a user name or password (the agent authenticates by certificate)");
  }
  if (part(CURLUPART_QUERY)) return bad("must not have a query (?...)");
  if (part(CURLUPART_FRAGMENT)) return bad("must not have a fragment (#...)");
  if (auto port = part(CURLUPART_PORT); port && (*port == "0")) return bad("port 0");
  return Status::Ok();
}

CurlUplink::CurlUplink(CurlUplinkOptions options) : options_(std::move(options)) {
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::unique_ptr<UplinkSession> CurlUplink::Begin() {
  return std::make_unique<CurlSession>(options_);
}

}  // namespace anshin::agent

#include "notify-server/mail/relay_probe.hpp"

#include <curl/curl.h>

#include <memory>
#include <string>

namespace anshin::server::mail {

Status ProbeRelay(const SmtpOptions& options) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy(curl_easy_init(), curl_easy_cleanup);
  if (!easy) return Status::Internal("curl_easy_init failed");
  CURL* e = easy.get();
  std::string url = options.url;
  std::string_view rest = std::string_view(url).substr(url.find("://") + 3);
  if (rest.find('/') == std::string_view::npos) url += "/" + options.helo_name;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  // libcurl's connect phase of SMTP is the greeting, EHLO, STARTTLS and AUTH: stop after it.
  curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
  if (options.require_starttls && url.starts_with("smtp://")) {
    curl_easy_setopt(e, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  }
  if (!options.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options.ca_file.c_str());
  if (!options.username.empty()) {
    curl_easy_setopt(e, CURLOPT_USERNAME, options.username.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, options.password.c_str());
  }
  const CURLcode rc = curl_easy_perform(e);
  if (rc == CURLE_OK) return Status::Ok();
  std::string why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
  if (rc == CURLE_USE_SSL_FAILED) {
    why =
        "the relay does not offer STARTTLS (set mail.starttls = \"none\" only for a plain relay "
        "on a trusted host): " +
        why;
  }
  return Status::Unavailable(why);
}

}  // namespace anshin::server::mail

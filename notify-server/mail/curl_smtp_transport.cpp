#include "notify-server/mail/curl_smtp_transport.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string_view>

namespace anshin::server::mail {
namespace {

CURLM* M(void* p) { return static_cast<CURLM*>(p); }

Status GlobalInit() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (rc != CURLE_OK)
    return Status::Internal(std::string("curl_global_init: ") + curl_easy_strerror(rc));
  return Status::Ok();
}

// The SMTP command a reply answers; decides whether a 5xx concerns the recipient.
enum class Phase { kSession, kMailFrom, kRcptTo, kData };

}  // namespace

struct CurlSmtpTransport::Session {
  CURL* easy = nullptr;
  curl_slist* rcpt = nullptr;
  std::string_view data;  // the message being uploaded
  std::size_t pos = 0;
  std::size_t index = 0;  // into the batch
  Phase phase = Phase::kSession;
  std::string last_reply;  // the relay's last reply line, without CRLF
  bool quitting = false;   // QUIT sent: its "221 Bye" must not hide the reply that mattered
  char errbuf[CURL_ERROR_SIZE] = {};

  ~Session() {
    if (rcpt != nullptr) curl_slist_free_all(rcpt);
    if (easy != nullptr) curl_easy_cleanup(easy);
  }

  static size_t Read(char* buffer, size_t size, size_t nitems, void* userp) {
    auto* s = static_cast<Session*>(userp);
    std::size_t n = std::min(size * nitems, s->data.size() - s->pos);
    std::memcpy(buffer, s->data.data() + s->pos, n);
    s->pos += n;
    return n;
  }

  // Watches the SMTP dialogue: replies (HEADER_IN) and our commands (HEADER_OUT). Only the
  // command verbs are looked at; AUTH lines (credentials) are never copied anywhere.
  static int Debug(CURL*, curl_infotype type, char* text, size_t size, void* userp) {
    auto* s = static_cast<Session*>(userp);
    std::string_view t(text, size);
    if (type == CURLINFO_HEADER_IN && !s->quitting) {
      while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
      std::size_t nl = t.rfind('\n');
      if (nl != std::string_view::npos) t = t.substr(nl + 1);
      if (!t.empty()) s->last_reply.assign(t.substr(0, 512));
    } else if (type == CURLINFO_HEADER_OUT) {
      if (t.starts_with("MAIL FROM:")) {
        s->phase = Phase::kMailFrom;
      } else if (t.starts_with("RCPT TO:")) {
        s->phase = Phase::kRcptTo;
      } else if (t.starts_with("DATA\r\n")) {
        s->phase = Phase::kData;
      } else if (t.starts_with("QUIT\r\n")) {
        s->quitting = true;
      }
    }
    return 0;
  }
};

CurlSmtpTransport::CurlSmtpTransport(SmtpOptions options) : options_(std::move(options)) {}

CurlSmtpTransport::~CurlSmtpTransport() {
  // Easy handles must leave the multi before either is cleaned up; the cache's connections
  // are closed (with QUIT) by curl_multi_cleanup.
  for (auto& s : sessions_) curl_multi_remove_handle(M(multi_), s->easy);
  sessions_.clear();
  if (multi_ != nullptr) curl_multi_cleanup(M(multi_));
}

Result<std::unique_ptr<CurlSmtpTransport>> CurlSmtpTransport::Create(const SmtpOptions& options) {
  const bool smtp = options.url.starts_with("smtp://");
  const bool smtps = options.url.starts_with("smtps://");
  if (!smtp && !smtps)
    return Status::InvalidArgument("mail.relay: expected smtp://host:port or smtps://host:port");
  if (options.connections < 1)
    return Status::InvalidArgument("mail.connections: must be at least 1");
  ANSHIN_RETURN_IF_ERROR(GlobalInit());
  std::unique_ptr<CurlSmtpTransport> t(new CurlSmtpTransport(options));
  ANSHIN_RETURN_IF_ERROR(t->Init());
  return t;
}

Status CurlSmtpTransport::Init() {
  // The URL's path is the name libcurl sends with EHLO.
  std::string_view rest = std::string_view(options_.url).substr(options_.url.find("://") + 3);
  url_ = options_.url;
  if (rest.find('/') == std::string_view::npos) url_ += "/" + options_.helo_name;

  multi_ = curl_multi_init();
  if (multi_ == nullptr) return Status::Internal("curl_multi_init failed");
  curl_multi_setopt(M(multi_), CURLMOPT_MAX_HOST_CONNECTIONS,
                    static_cast<long>(options_.connections));
  curl_multi_setopt(M(multi_), CURLMOPT_MAXCONNECTS, static_cast<long>(options_.connections));

  for (int i = 0; i < options_.connections; ++i) {
    auto s = std::make_unique<Session>();
    s->easy = curl_easy_init();
    if (s->easy == nullptr) return Status::Internal("curl_easy_init failed");
    CURL* e = s->easy;
    curl_easy_setopt(e, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &Session::Read);
    curl_easy_setopt(e, CURLOPT_READDATA, s.get());
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);  // feeds Debug(), which prints nothing
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, &Session::Debug);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, s.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, s.get());
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.message_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    // Notices are a few kilobytes: smaller buffers than the 64 KiB defaults save allocation
    // and copying per message.
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 16384L);
    if (url_.starts_with("smtps://") || options_.require_starttls) {
      curl_easy_setopt(e, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    }
    if (!options_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.username.empty()) {
      curl_easy_setopt(e, CURLOPT_USERNAME, options_.username.c_str());
      curl_easy_setopt(e, CURLOPT_PASSWORD, options_.password.c_str());
    }
    sessions_.push_back(std::move(s));
  }
  return Status::Ok();
}

std::vector<SendOutcome> CurlSmtpTransport::Send(std::span<const OutgoingMail> mails,
                                                 const OutcomeListener& on_outcome) {
  std::vector<SendOutcome> out(mails.size());
  std::vector<std::string> from(mails.size());
  std::vector<char> finished(mails.size(), 0);
  std::size_t next = 0;
  std::size_t done = 0;

  auto start = [&](Session& s) {
    const OutgoingMail& m = mails[next];
    s.index = next++;
    s.data = m.data;
    s.pos = 0;
    s.phase = Phase::kSession;
    s.last_reply.clear();
    s.quitting = false;
    s.errbuf[0] = '\0';
    if (s.rcpt != nullptr) curl_slist_free_all(s.rcpt);
    s.rcpt = curl_slist_append(nullptr, ("<" + m.to + ">").c_str());
    from[s.index] = "<" + m.from + ">";
    curl_easy_setopt(s.easy, CURLOPT_MAIL_FROM, from[s.index].c_str());
    curl_easy_setopt(s.easy, CURLOPT_MAIL_RCPT, s.rcpt);
    CURLMcode mc = curl_multi_add_handle(M(multi_), s.easy);
    if (mc != CURLM_OK) {
      out[s.index] = {m.id, SendOutcome::Kind::kTemporary, 0,
                      std::string("curl_multi_add_handle: ") + curl_multi_strerror(mc)};
      finished[s.index] = 1;
      ++done;
      if (on_outcome) on_outcome(s.index, out[s.index]);
      return false;
    }
    return true;
  };

  auto finish = [&](Session& s, CURLcode rc) {
    long code = 0;
    curl_easy_getinfo(s.easy, CURLINFO_RESPONSE_CODE, &code);
    long new_connections = 0;
    curl_easy_getinfo(s.easy, CURLINFO_NUM_CONNECTS, &new_connections);
    connections_opened_ += new_connections;
    finished[s.index] = 1;
    SendOutcome& o = out[s.index];
    o.id = mails[s.index].id;
    o.smtp_code = static_cast<int>(code);
    if (rc == CURLE_OK) {
      o.kind = SendOutcome::Kind::kSent;
      o.reply = s.last_reply;
    } else {
      std::string detail = s.errbuf[0] != '\0' ? s.errbuf : curl_easy_strerror(rc);
      o.reply = s.last_reply.empty() || detail.find(s.last_reply) != std::string::npos
                    ? detail
                    : detail + " (" + s.last_reply + ")";
      const bool recipient_refused =
          code >= 500 && code < 600 && (s.phase == Phase::kRcptTo || s.phase == Phase::kData);
      o.kind = recipient_refused ? SendOutcome::Kind::kPermanent : SendOutcome::Kind::kTemporary;
    }
    ++done;
    if (on_outcome) on_outcome(s.index, o);
  };

  for (auto& s : sessions_) {
    while (next < mails.size() && !start(*s)) {
    }
  }
  while (done < mails.size()) {
    int running = 0;
    CURLMcode mc = curl_multi_perform(M(multi_), &running);
    if (mc != CURLM_OK) {
      // The multi handle itself is broken: every unfinished message is a temporary failure.
      for (auto& s : sessions_) curl_multi_remove_handle(M(multi_), s->easy);
      for (std::size_t i = 0; i < mails.size(); ++i) {
        if (!finished[i]) {
          out[i] = {mails[i].id, SendOutcome::Kind::kTemporary, 0,
                    std::string("curl_multi_perform: ") + curl_multi_strerror(mc)};
          if (on_outcome) on_outcome(i, out[i]);
        }
      }
      return out;
    }
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(M(multi_), &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Session* s = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&s));
      CURLcode rc = msg->data.result;
      curl_multi_remove_handle(M(multi_), msg->easy_handle);  // invalidates msg
      finish(*s, rc);
      while (next < mails.size() && !start(*s)) {
      }
    }
    if (done < mails.size()) curl_multi_poll(M(multi_), nullptr, 0, 100, nullptr);
  }
  return out;
}

}  // namespace anshin::server::mail

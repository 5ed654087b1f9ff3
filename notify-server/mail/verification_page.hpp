// VerificationPage: the small page on the public listener where a guardian confirms an address
// with the link from the verification mail (DESIGN.md §6).
//
//   GET  /verify?token=<32 hex>  -> a Japanese HTML page with a "確認する" button. It changes
//                                   nothing: mail scanners and link previews fetch links.
//   POST /verify  (form body token=<32 hex>) -> confirms the address
//   (services::Guardians::VerifyByLink)
//                                   and answers with a page saying so, or why not (expired 410,
//                                   unknown or already used 404, too many failures 429).
// Anything else under /verify is 404/405. Failed confirmations are rate-limited (a token bucket
// of kFailureBurst, refilled at one per kFailureRefill) so that guessing links is pointless on
// top of their 128 bits. Logs carry the guardian's ID only.
//
// Handle() is a function of the request apart from the store and the limiter; it blocks on the
// store, so the network layer runs it on a worker thread. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include "common/time.hpp"
#include "services/guardians.hpp"

namespace anshin::server::mail {

struct PageReply {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
};

class VerificationPage {
 public:
  static constexpr int kFailureBurst = 20;
  static constexpr Millis kFailureRefill{3000};

  VerificationPage(services::Guardians& guardians, const Clock& clock)
      : guardians_(guardians), clock_(clock) {}

  // `target` is the request target ("/verify?token=..."); `body` the request body.
  PageReply Handle(std::string_view method, std::string_view target, std::string_view body);

  // True for targets this page answers (the router's dispatch test).
  static bool Owns(std::string_view target);

 private:
  bool TakeFailureToken();  // false when over the limit
  bool OverLimit();

  services::Guardians& guardians_;
  const Clock& clock_;
  std::mutex mu_;
  double tokens_ = kFailureBurst;  // guarded by mu_
  TimePoint last_refill_{};        // guarded by mu_
};

}  // namespace anshin::server::mail

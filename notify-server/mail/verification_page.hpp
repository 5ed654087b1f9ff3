// VerificationPage: the small page on the public listener where a guardian confirms an address
// with the link from the verification mail (DESIGN.md §6).
//
//   GET  /verify                 -> a form for the address and the 6-digit code from the mail
//                                   (the card letter's QR code opens it); POST /verify with
//                                   email=…&code=… confirms it (Guardians::VerifyByAddress);
//                                   a wrong code and an unknown address get the same answer
//   GET  /verify?token=<32 hex>  -> a Japanese HTML page with a "確認する" button. It changes
//                                   nothing: mail scanners and link previews fetch links.
//   POST /verify  (form body token=<32 hex>) -> confirms the address
//   (services::Guardians::VerifyByLink)
//                                   and answers with a page saying so, or why not (expired 410,
//                                   unknown or already used 404, too many failures 429).
// Anything else under /verify is 404/405 (405 with Allow). Failed confirmations are rate-limited
// per client address (an IPv6 client by its /64) and per token — never globally, so one
// client's failures cannot shut verification for every other guardian: each key has a token
// bucket of kFailureBurst (kTokenFailureBurst per token), refilled at one per kFailureRefill, so
// that guessing links is pointless on top of their 128 bits. At most kMaxTrackedKeys keys are
// remembered per kind; beyond that the longest-quiet ones are forgotten. Logs carry the
// guardian's ID only.
//
// Every reply carries its Content-Security-Policy (default-src 'none', the page's one inline
// style by hash, form-action 'self', frame-ancestors 'none'); the HTTP layer adds the other
// browser security headers (X-Frame-Options, nosniff, Referrer-Policy: no-referrer).
//
// Handle() is a function of the request apart from the store and the limiters; it blocks on the
// store, so the network layer runs it on a worker thread. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/time.hpp"
#include "services/guardians.hpp"

namespace anshin::server::mail {

struct PageReply {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Security-Policy, Allow
  std::string body;
};

// Token buckets by key (a client address, a link token): `burst` failures, refilled at one per
// `refill`. Bounded memory (see VerificationPage). Not thread-safe.
class FailureBuckets {
 public:
  FailureBuckets(double burst, Millis refill, std::size_t max_keys)
      : burst_(burst), refill_(refill), max_keys_(max_keys) {}
  bool Exhausted(const std::string& key, TimePoint now);  // no failure token left
  void Fail(const std::string& key, TimePoint now);       // takes one (if any is left)
  std::size_t size() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    TimePoint last;
  };
  Bucket& Refilled(const std::string& key, TimePoint now);
  void Prune(TimePoint now);

  const double burst_;
  const Millis refill_;
  const std::size_t max_keys_;
  std::map<std::string, Bucket> buckets_;
};

class VerificationPage {
 public:
  static constexpr int kFailureBurst = 20;      // failed POSTs per client address
  static constexpr int kTokenFailureBurst = 5;  // failed POSTs per token
  static constexpr Millis kFailureRefill{3000};
  static constexpr std::size_t kMaxTrackedKeys = 10'000;

  VerificationPage(services::Guardians& guardians, const Clock& clock)
      : guardians_(guardians), clock_(clock) {}

  // `target` is the request target ("/verify?token=..."); `body` the request body;
  // `client_address` the client's IP as the HTTP layer saw it.
  PageReply Handle(std::string_view method, std::string_view target, std::string_view body,
                   std::string_view client_address);

  // True for targets this page answers (the router's dispatch test).
  static bool Owns(std::string_view target);

  // The key an address is limited under: the address itself, or its /64 for IPv6.
  static std::string AddressKey(std::string_view address);

 private:
  PageReply VerifyAddressAndCode(const std::string& client, std::string_view body);
  bool OverLimit(const std::string& address, std::string_view token);
  void Failed(const std::string& address, std::string_view token);

  services::Guardians& guardians_;
  const Clock& clock_;
  std::mutex mu_;
  FailureBuckets by_address_{kFailureBurst, kFailureRefill, kMaxTrackedKeys};     // guarded by mu_
  FailureBuckets by_token_{kTokenFailureBurst, kFailureRefill, kMaxTrackedKeys};  // guarded by mu_
};

}  // namespace anshin::server::mail

// ConnectionBudget: the connection limits of one listener, and which connection gives way when
// they are reached. Pure bookkeeping, no sockets: HttpServer asks it on every accept and tells it
// when a connection changes phase or closes. One budget per listener, so a flood of one listener
// can never take the slots of another (agents keep theirs while the public side is flooded).
//
// A connection is in one of four phases:
//   kSilent     accepted, no byte received yet;
//   kHandshake  bytes arrived, but the TLS handshake (agents) or the first request's header
//               (public) is not complete. kSilent and kHandshake together are "pending", bounded
//               in time by `server.handshake_timeout`;
//   kBusy       a request is being read, handled or answered;
//   kIdle       keep-alive, waiting for its next request (bounded by `server.idle_timeout`).
//
// Limits (ListenerLimits):
//   max_connections  every connection of the listener;
//   max_pending      pending connections: however many connections a flood opens without
//                    finishing a handshake, it holds at most this many slots;
//   max_per_address  connections from one client address (0: no limit). `trusted_proxies`
//                    (reverse proxies in front of the listener, which carry many clients) are
//                    not limited; the HTTP layer takes their clients' addresses from
//                    X-Forwarded-For.
//
// On accept, in this order:
//   1. the address already holds max_per_address connections: the new one is refused (those the
//      address holds are kept);
//   2. max_pending connections are pending: the oldest silent connection is evicted, else the
//      oldest one in its handshake. New connections always get their chance; a real client sends
//      its ClientHello or request at once, so it is not silent and a flood of silent connections
//      only ever evicts its own kind; of those mid-handshake, the one that started longest ago is
//      the likeliest to be a slow attacker (a real agent finishes within a round trip or two);
//   3. max_connections are open: the oldest silent connection is evicted, else the oldest in its
//      handshake, else the oldest idle keep-alive connection (its client just reconnects); when
//      every connection is busy the new one is refused.
//
// Evicted connections are forgotten at once (they no longer count); the caller closes them.
// Not thread-safe: used on the network thread only.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace anshin::server {

struct ListenerLimits {
  int max_connections = 1024;
  int max_pending = 256;
  int max_per_address = 0;                // 0: no per-address limit
  std::set<std::string> trusted_proxies;  // IP literals as asio prints them
};

class ConnectionBudget {
 public:
  using Id = std::uint64_t;  // ascending: a smaller id is an older connection
  enum class Phase { kSilent, kHandshake, kBusy, kIdle };

  struct Admission {
    bool admitted = false;
    const char* refused_because = "";  // "per_address" or "full" when not admitted
    std::vector<Id> evicted;           // connections the caller must close now
  };

  explicit ConnectionBudget(ListenerLimits limits) : limits_(std::move(limits)) {}

  // A new connection `id` (greater than every earlier id) from `address`, in kSilent.
  Admission Admit(Id id, const std::string& address);
  // No-ops for connections the budget does not hold (evicted or released).
  void SetPhase(Id id, Phase phase);
  void Release(Id id);
  bool Holds(Id id) const { return entries_.count(id) != 0; }

  int open() const { return static_cast<int>(entries_.size()); }
  int pending() const { return static_cast<int>(silent_.size() + handshake_.size()); }
  int idle() const { return static_cast<int>(idle_.size()); }
  int from(const std::string& address) const;
  const ListenerLimits& limits() const { return limits_; }

 private:
  struct Entry {
    Phase phase;
    std::string address;
  };
  void Forget(std::map<Id, Entry>::iterator it);
  std::set<Id>* IndexOf(Phase phase);

  ListenerLimits limits_;
  std::map<Id, Entry> entries_;
  std::set<Id> silent_;
  std::set<Id> handshake_;
  std::set<Id> idle_;
  std::unordered_map<std::string, int> per_address_;
};

}  // namespace anshin::server

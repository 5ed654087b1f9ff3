// AllowlistCache: the tokens of listed cards (active and lost), in memory, for the tap path;
// a lost card's tap is still queued (the server raises the alert) but the child is told to
// see staff.
//
// The durable copy lives in AgentStore; the uplink thread replaces this cache after each
// refresh, the reader thread looks tokens up. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "common/types.hpp"

namespace anshin::agent {

class AllowlistCache {
 public:
  enum class Card { kUnknown, kListed, kLost };

  void Replace(const std::vector<CardToken>& tokens, const std::vector<CardToken>& lost,
               std::uint64_t version, bool fetched) {
    std::unordered_set<CardToken> set(tokens.begin(), tokens.end());
    std::unordered_set<CardToken> lost_set(lost.begin(), lost.end());
    std::lock_guard lock(mu_);
    tokens_.swap(set);
    lost_.swap(lost_set);
    version_ = version;
    fetched_ = fetched;
  }
  bool Contains(const CardToken& token) const {
    std::lock_guard lock(mu_);
    return tokens_.count(token) > 0;
  }
  Card Lookup(const CardToken& token) const {
    std::lock_guard lock(mu_);
    if (tokens_.count(token) == 0) return Card::kUnknown;
    return lost_.count(token) > 0 ? Card::kLost : Card::kListed;
  }
  std::uint64_t version() const {
    std::lock_guard lock(mu_);
    return version_;
  }
  bool fetched() const {
    std::lock_guard lock(mu_);
    return fetched_;
  }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return tokens_.size();
  }

 private:
  mutable std::mutex mu_;
  std::unordered_set<CardToken> tokens_;
  std::unordered_set<CardToken> lost_;  // of tokens_
  std::uint64_t version_ = 0;
  bool fetched_ = false;
};

}  // namespace anshin::agent

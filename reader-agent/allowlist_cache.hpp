// AllowlistCache: the tokens of active cards, in memory, for the tap path.
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
  void Replace(const std::vector<CardToken>& tokens, std::uint64_t version, bool fetched) {
    std::unordered_set<CardToken> set(tokens.begin(), tokens.end());
    std::lock_guard lock(mu_);
    tokens_.swap(set);
    version_ = version;
    fetched_ = fetched;
  }
  bool Contains(const CardToken& token) const {
    std::lock_guard lock(mu_);
    return tokens_.count(token) > 0;
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
  std::uint64_t version_ = 0;
  bool fetched_ = false;
};

}  // namespace anshin::agent

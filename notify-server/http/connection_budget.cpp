#include "notify-server/http/connection_budget.hpp"

namespace anshin::server {

// kBusy connections are never evicted and need no index.
std::set<ConnectionBudget::Id>* ConnectionBudget::IndexOf(Phase phase) {
  switch (phase) {
    case Phase::kSilent:
      return &silent_;
    case Phase::kHandshake:
      return &handshake_;
    case Phase::kIdle:
      return &idle_;
    case Phase::kBusy:
      break;
  }
  return nullptr;
}

void ConnectionBudget::Forget(std::map<Id, Entry>::iterator it) {
  if (auto* index = IndexOf(it->second.phase)) index->erase(it->first);
  auto a = per_address_.find(it->second.address);
  if (a != per_address_.end() && --a->second == 0) per_address_.erase(a);
  entries_.erase(it);
}

ConnectionBudget::Admission ConnectionBudget::Admit(Id id, const std::string& address) {
  Admission result;
  const bool limited = limits_.max_per_address > 0 && limits_.trusted_proxies.count(address) == 0;
  if (limited && from(address) >= limits_.max_per_address) {
    result.refused_because = "per_address";
    return result;
  }
  // Evicts the oldest connection of the first non-empty index; false when all are empty.
  auto evict_oldest = [&](std::initializer_list<std::set<Id>*> indexes) {
    for (std::set<Id>* index : indexes) {
      if (index->empty()) continue;
      const Id victim = *index->begin();
      result.evicted.push_back(victim);
      Forget(entries_.find(victim));
      return true;
    }
    return false;
  };
  if (pending() >= limits_.max_pending) evict_oldest({&silent_, &handshake_});
  if (open() >= limits_.max_connections && !evict_oldest({&silent_, &handshake_, &idle_})) {
    result.refused_because = "full";
    return result;
  }
  entries_.emplace(id, Entry{Phase::kSilent, address});
  silent_.insert(id);
  ++per_address_[address];
  result.admitted = true;
  return result;
}

void ConnectionBudget::SetPhase(Id id, Phase phase) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.phase == phase) return;
  if (auto* index = IndexOf(it->second.phase)) index->erase(id);
  it->second.phase = phase;
  if (auto* index = IndexOf(phase)) index->insert(id);
}

void ConnectionBudget::Release(Id id) {
  auto it = entries_.find(id);
  if (it != entries_.end()) Forget(it);
}

int ConnectionBudget::from(const std::string& address) const {
  auto it = per_address_.find(address);
  return it == per_address_.end() ? 0 : it->second;
}

}  // namespace anshin::server

#include "notify-server/console/access_watch.hpp"

#include <set>

namespace anshin::console {

constexpr auto kWindow = std::chrono::hours(1);

void AccessWatch::SetLimit(int per_hour) {
  std::lock_guard lock(mu_);
  per_hour_ = per_hour;
}

bool AccessWatch::Record(store::StaffId staff, ChildId child, TimePoint at) {
  std::lock_guard lock(mu_);
  auto& views = views_[staff];
  while (!views.empty() && at - views.front().first >= kWindow) views.pop_front();
  views.emplace_back(at, child);
  std::set<ChildId> distinct;
  for (const auto& [when, c] : views) distinct.insert(c);
  if (static_cast<int>(distinct.size()) <= per_hour_) return false;
  auto it = reported_.find(staff);
  if (it != reported_.end() && at - it->second < kWindow) return false;
  reported_[staff] = at;
  return true;
}

}  // namespace anshin::console

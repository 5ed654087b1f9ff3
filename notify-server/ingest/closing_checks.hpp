// ClosingChecks: DESIGN.md §4 rule 8 on the store. At closing_time + closing_grace of each
// facility's local day, every child whose visit is still open gets one "no departure recorded"
// alert. Looks at today's and yesterday's local dates, so a check missed by a restart around
// midnight is still made. Run() blocks on one store transaction: call it from a worker thread
// (the server's scheduler, every minute). Thread-safe.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "common/engine.hpp"
#include "services/facilities.hpp"
#include "store/store.hpp"

namespace anshin::ingest {

class ClosingChecks {
 public:
  ClosingChecks(store::Store& store, services::ZoneLoader zones)
      : store_(store), zones_(std::move(zones)) {}

  // The alerts raised now.
  Result<std::vector<Alert>> Run(TimePoint now);
  std::string MetricsText() const;

 private:
  store::Store& store_;
  const services::ZoneLoader zones_;
  std::atomic<std::uint64_t> raised_{0};
};

}  // namespace anshin::ingest

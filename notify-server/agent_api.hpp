// AgentApi: what the network layer calls (server::Services), made of the services that do the
// work: IngestService (uploads, group commit), AllowlistService (allowlist requests on reader
// threads) and the figures for /metrics, of which the store-backed ones (the outbox, counted
// once per scrape) are read on a reader thread, never on the network thread.
//
// Borrows everything; thread-safe as its parts are.
#pragma once

#include <string>

#include "common/time.hpp"
#include "notify-server/ingest/allowlist_service.hpp"
#include "notify-server/ingest/closing_checks.hpp"
#include "notify-server/ingest/ingest_service.hpp"
#include "notify-server/services.hpp"
#include "services/facilities.hpp"
#include "store/store.hpp"

namespace anshin::server {

// The outbox figures (depth, oldest age, rows by state) and anshin_store_up, from one query.
std::string OutboxMetricsText(store::Store& store, TimePoint now);

class AgentApi final : public Services {
 public:
  // `zones` places the facilities' opening hours for the per-facility metrics.
  AgentApi(store::Store& store, ingest::IngestService& ingest, ingest::AllowlistService& allowlist,
           const ingest::ClosingChecks& closing, const Clock& clock, services::ZoneLoader zones)
      : store_(store),
        ingest_(ingest),
        allowlist_(allowlist),
        closing_(closing),
        clock_(clock),
        zones_(std::move(zones)) {}

  void IngestTaps(Peer peer, wire::TapBatch batch, TimePoint received_at,
                  std::function<void(Result<wire::TapAck>)> done) override {
    ingest_.IngestTaps(std::move(peer), std::move(batch), received_at, std::move(done));
  }
  void Allowlist(Peer peer, std::uint64_t since,
                 std::function<void(Result<wire::AllowlistDelta>)> done) override {
    allowlist_.Allowlist(std::move(peer), since, std::move(done));
  }
  void Metrics(std::function<void(std::string)> done) override;

 private:
  store::Store& store_;
  ingest::IngestService& ingest_;
  ingest::AllowlistService& allowlist_;
  const ingest::ClosingChecks& closing_;
  const Clock& clock_;
  const services::ZoneLoader zones_;
};

}  // namespace anshin::server

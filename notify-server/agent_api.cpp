#include "notify-server/agent_api.hpp"

#include <spdlog/spdlog.h>

#include "notify-server/facility_metrics.hpp"
#include "notify-server/metrics_text.hpp"

namespace anshin::server {

std::string OutboxMetricsText(store::Store& store, TimePoint now) {
  std::string out;
  PrometheusText text(out);
  Result<store::OutboxStats> st =
      store::InRead(store, [&](store::ReadTxn& txn) { return txn.outbox().Stats(now); });
  if (st.ok()) {
    text.Gauge("anshin_outbox_depth", "Mails queued, sending or waiting to retry.", st->depth);
    text.Gauge("anshin_outbox_oldest_age_seconds", "Age of the oldest mail not yet sent or failed.",
               st->oldest_age.count() / 1000.0);
    text.Header("anshin_outbox_messages", "Outbox rows by delivery state.", "gauge");
    const std::pair<const char*, std::int64_t> states[] = {{"queued", st->queued},
                                                           {"sending", st->sending},
                                                           {"sent", st->sent},
                                                           {"retrying", st->retrying},
                                                           {"failed", st->failed}};
    for (const auto& [name, n] : states) {
      text.Sample(std::string("anshin_outbox_messages{state=\"") + name + "\"}", n);
    }
  } else {
    spdlog::warn("metrics: reading the outbox failed: {}", st.status().ToString());
  }
  text.Gauge("anshin_store_up", "1 when the store answered the last metrics query.",
             st.ok() ? 1 : 0);
  return out;
}

void AgentApi::Metrics(std::function<void(std::string)> done) {
  allowlist_.Post([this, done = std::move(done)] {
    const TimePoint now = clock_.Now();
    done(ingest_.MetricsText() + closing_.MetricsText() + OutboxMetricsText(store_, now) +
         FacilityMetricsText(store_, zones_, now));
  });
}

}  // namespace anshin::server

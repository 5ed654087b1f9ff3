// Per-facility and per-alert-kind figures for /metrics, read from the store at scrape time
// (the agents' last reports, the open alerts), so an operator's Prometheus sees each club:
//
//   anshin_facility_last_contact_age_seconds{facility}  since any of its PCs last uploaded
//                                                       (absent: never)
//   anshin_facility_open{facility}                      1 during its opening hours (opens..closes,
//                                                       Monday to Saturday, its own zone)
//   anshin_facility_reader_ok{facility}                 1 when every active PC reported its
//                                                       reader ok in its last report
//   anshin_facility_queue_depth{facility}               taps queued on its PCs, as last reported
//   anshin_facility_unknown_taps{facility}              unregistered cards its PCs counted
//   anshin_facility_report_age_seconds{facility}        age of the oldest of those reports
//   anshin_agent_cert_expiry_seconds{agent,facility}    until the agent's client certificate
//                                                       expires (absent: revoked, or unknown)
//   anshin_alerts_open{kind}                            alerts not acknowledged, by kind
//
// Labels are facility codes, agent names and alert kinds: no personal data.
// deploy/prometheus/alerts.yml uses them. Thread-safe; blocks on the store (call it off the network
// thread).
#pragma once

#include <string>

#include "common/time.hpp"
#include "services/facilities.hpp"
#include "store/store.hpp"

namespace anshin::server {

std::string FacilityMetricsText(store::Store& store, const services::ZoneLoader& zones,
                                TimePoint now);

}  // namespace anshin::server

// AlertChecks: the situations no single tap shows, looked for once a minute by the server's
// scheduler (docs/console.md, "Alerts"):
//
//   agent_silent   an active facility PC not heard from for `agent_silent` during the
//                  facility's opening hours (Monday to Saturday, opens..closes in its zone; a
//                  PC switched off overnight has `agent_silent` after opening to report);
//                  once per silence (until the PC is heard from again);
//   reader_error   a PC whose last report, during opening hours, says its reader is not ok;
//   clock_skew     a PC whose clock was more than 2 minutes off at its last upload (checked
//                  during opening hours);
//   mail_failing   a notice still unsent after `mail_stuck` (the relay refuses or is down);
//   not_arrived    a child the facility expects today (services/expected.hpp: attend days,
//                  calendar, absences) with no arrival by its expected time; once per child
//                  and day, while the facility is open; where the ward enables it for the
//                  facility (facilities.notify_not_arrived), also a mail to each guardian who
//                  gets arrival mail, queued with the alert;
//
// Lasting situations (a reader still broken, mail still stuck) are raised again after
// `repeat`, not every minute. Each alert names its situation by ids in `detail`
// ("agent=3"); AlertTable::LastRaised finds the previous one. Run() blocks on one store
// transaction: call it from a worker (the scheduler). Thread-safe.
#pragma once

#include <functional>
#include <vector>

#include "common/time.hpp"
#include "services/facilities.hpp"
#include "store/store.hpp"

namespace anshin::ingest {

struct AlertCheckOptions {
  Millis agent_silent{20 * 60 * 1000};
  Millis mail_stuck{15 * 60 * 1000};
  Millis repeat{24 * 60 * 60 * 1000};
  // Called after a run queued guardian mail (the mailer's Notify); may be empty.
  std::function<void()> mail_queued;
};

class AlertChecks {
 public:
  AlertChecks(store::Store& store, services::ZoneLoader zones, AlertCheckOptions options = {})
      : store_(store), zones_(std::move(zones)), options_(options) {}

  // The alerts raised now (each also inserted and logged as an `alert` event).
  Result<std::vector<store::AlertRecord>> Run(TimePoint now);

 private:
  store::Store& store_;
  const services::ZoneLoader zones_;
  const AlertCheckOptions options_;
};

}  // namespace anshin::ingest

// StaffAlertMailer: each alert mailed once to the staff who act on it (docs/console.md,
// "Alerts"). Run() takes the alerts whose mail has not gone out (alerts.mailed_at NULL), finds
// the active staff accounts with an address whose role receives the alert's kind —
//
//   facility    its own facility's lost_card_seen, no_departure, not_arrived, agent_silent,
//               reader_error, clock_skew
//   callcenter  lost_card_seen, no_departure, not_arrived, address_bouncing, mail_failing
//   operator    agent_silent, reader_error, clock_skew, mail_failing, unusual_access
//   admin, auditor  unusual_access
//
// — and hands one message per recipient to its own transport (the relay of [mail]). The mail
// says what happened, where and when, with the alert's number and a link to the console
// (alerts.console_url) where it is acknowledged (or `anshin-admin alert ack N`); it never holds a child's name or a guardian's
// address (the console shows them to whoever may see them). An alert is marked mailed once the
// relay answered for its recipients (a refused recipient is logged, not retried), or when no
// one receives it; while the relay is unreachable it stays unmailed and the next Run() tries
// again. Run() blocks: call it from the scheduler's worker. Not thread-safe (one caller).
#pragma once

#include <string>

#include "common/time.hpp"
#include "notify-server/mail/mail_config.hpp"
#include "notify-server/mail/mail_transport.hpp"
#include "services/facilities.hpp"
#include "store/store.hpp"

namespace anshin::server::mail {

struct StaffAlertMailOptions {
  std::string from;               // mail.from
  std::string from_name;          // mail.from_name
  std::string message_id_domain;  // mail.message_id_domain
  std::string console_url;        // alerts.console_url ("" = no link)
};

// Who receives alerts of this kind, by role (the table above).
bool ReceivesAlert(store::StaffRole role, AlertKind kind);

// The subject and body of the alert mail (Japanese; ids, no personal data). `facility_name`
// is empty for deployment-wide alerts.
struct StaffAlertText {
  std::string subject, body;
};
StaffAlertText ComposeStaffAlert(const store::AlertRecord& alert, std::string_view facility_name,
                                 const TimeZone& zone, std::string_view console_url);

class StaffAlertMailer {
 public:
  StaffAlertMailer(store::Store& store, MailTransport& transport, StaffAlertMailOptions options,
                   services::ZoneLoader zones)
      : store_(store),
        transport_(transport),
        options_(std::move(options)),
        zones_(std::move(zones)) {}

  // Mails the alerts not mailed yet; returns how many messages the relay accepted.
  Result<int> Run(TimePoint now);

 private:
  store::Store& store_;
  MailTransport& transport_;
  const StaffAlertMailOptions options_;
  const services::ZoneLoader zones_;
};

}  // namespace anshin::server::mail

// anshin-admin's operations on a deployment home (DIR, default $ANSHIN_HOME or /var/lib/anshin):
//
//   DIR/anshin.db     the server's SQLite store
//   DIR/pki/ca.key    deployment CA key (0600)     DIR/pki/ca.crt
//   DIR/pki/server.key server key (0600)           DIR/pki/server.crt (SANs from init)
//   DIR/card.key      the deployment card key, 64 hex digits (0600)
//   DIR/server.toml   anshin-server's configuration
//
// Each operation is a function of its arguments returning Status/Result; the CLI (cli.cpp)
// only parses flags and prints. The rules (validation, lifecycles, limits, the audit chain)
// are the services' (services/), shared with the server; this file adds what only the
// operator's machine does: the PKI, the card key, the deployment's files. Every change is
// written to the hash-chained audit log with the operator's OS user name, in the same
// transaction as the change. Personal data (names, addresses) is never printed back except
// where the operator typed it.
#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/sys/time_zones.hpp"
#include "common/time.hpp"
#include "common/types.hpp"
#include "provisioning/card_files.hpp"
#include "provisioning/import/apply.hpp"
#include "services/agents.hpp"
#include "services/cards.hpp"
#include "services/children.hpp"
#include "services/facilities.hpp"
#include "services/guardians.hpp"
#include "services/inquiries.hpp"
#include "store/store.hpp"

namespace anshin::admin {

// $ANSHIN_HOME, or /var/lib/anshin.
std::filesystem::path DefaultHome();
// The operator's OS user name (getpwuid(geteuid())), for the audit log.
std::string OperatorName();

// What init writes into server.toml beside the PKI. Empty fields get the documented
// placeholder (InitPlaceholders lists which), so a deployment can be created first and its
// mail settings completed before going live (`anshin-server --check-config` names what is left).
struct InitOptions {
  std::vector<std::string> server_sans;  // at least one
  bool force = false;            // replace an existing deployment (database, PKI, card key, config)
  std::string relay;             // smtp://host:port (STARTTLS) or smtps://host:port
  std::string starttls;          // "required" (default) | "none"
  std::string sender_domain;     // mail.from = noreply@<domain>
  std::string public_url;        // base of the guardians' verification links
  std::string callcenter_phone;  // shown to guardians
};

// The settings of `options` that init will fill with a placeholder, by flag name.
std::vector<std::string> InitPlaceholders(const InitOptions& options);

// The complete server.toml init writes (every key, with its value or default, commented).
// InvalidArgument naming the flag for a bad relay URL, STARTTLS mode, domain, URL or number.
Result<std::string> ServerToml(const InitOptions& options);

// Creates the database (migrations), the CA, the server certificate, the card key and
// server.toml. Refuses (AlreadyExists) when the home already holds a deployment, unless force.
Status Init(const std::filesystem::path& home, const InitOptions& options, const std::string& user,
            TimePoint now);

// Engine parameters as typed on the command line; unset fields keep their current (or default)
// value. Durations: "120s", "30m"; times of day: "16:30".
struct FacilitySettings {
  std::optional<std::string> name;
  std::optional<std::string> tz;
  std::optional<std::string> departure_from;
  std::optional<std::string> departure_margin;
  std::optional<std::string> double_tap_window;
  std::optional<std::string> closing_time;
  std::optional<std::string> closing_grace;
  std::optional<std::string> late_after;
  std::optional<std::string> opens;
  std::optional<std::string> expected_arrival_by;  // HH:MM, or "none"
  std::optional<std::string> notify_not_arrived;   // "on" or "off"
};
// Applies settings onto f, validating each (the message names the flag).
Status ApplyFacilitySettings(const FacilitySettings& s, store::Facility& f);

struct EnrollOptions {
  std::string facility_code;
  std::string name;
  std::filesystem::path out_dir;
  std::optional<std::filesystem::path> csr;  // issue for this CSR's key instead of generating one
  std::string server_url = "https://127.0.0.1:8443";
};

struct EnrollResult {
  AgentId agent;
  std::string cert_sha256;
  TimePoint cert_not_after;
};

// agent renew: a new certificate (and key, unless from a CSR) for an enrolled agent.
struct RenewOptions {
  std::string name;
  std::filesystem::path out_dir;
  std::optional<std::filesystem::path> csr;
  int days = 825;  // validity, 1 to 825
};

struct RenewResult {
  std::string cert_sha256;
  std::string old_cert_sha256;
  TimePoint cert_not_after;
};

// A child as typed on the command line; optional fields left unset are not recorded.
struct ChildInput {
  std::string facility_code;
  std::string name;
  std::string expected_departure;     // "mon=17:30,wed=18:00"
  std::optional<std::string> number;  // the ward's child number
  std::string kana;
  std::optional<int> grade;
  std::string attends;  // "mon,tue,fri"
};

// A child's changes as typed on the command line: only the fields given change, checked by the
// same rules as ChildInput (services/children.hpp).
struct ChildChanges {
  std::optional<std::string> facility_code;
  std::optional<std::string> name;
  std::optional<std::string> number;
  std::optional<std::string> kana;
  std::optional<int> grade;
  std::optional<std::string> attends;  // "mon,tue,fri"
  // Expected departure by weekday (0 = Sunday): "17:30", or "none" to clear it.
  std::array<std::optional<std::string>, 7> departures;
};

struct GuardianOptions {
  ChildId child;
  std::string email;
  bool arrival = true;
  bool departure = true;
  bool iso_2022_jp = false;
};

// An opened deployment home.
class Admin {
 public:
  static Result<std::unique_ptr<Admin>> Open(
      const std::filesystem::path& home, std::string user,
      std::shared_ptr<const Clock> clock = std::make_shared<SystemClock>());

  Result<FacilityId> FacilityAdd(const std::string& code, const FacilitySettings& s);
  Result<std::vector<store::Facility>> FacilityList();
  Status FacilitySet(const std::string& code, const FacilitySettings& s);

  // Issues the agent's client certificate and writes the bundle: agent.key (0600, not with a
  // CSR), agent.crt, ca.crt, card.key (0600) and agent.toml for anshin-agent.
  Result<EnrollResult> AgentEnroll(const EnrollOptions& o);
  Status AgentSetStatus(const std::string& name, store::AgentStatus status);
  Result<std::vector<store::Agent>> AgentList();
  // Issues a new certificate for the agent from the same CA and writes agent.key (0600, not
  // with a CSR), agent.crt and ca.crt into out_dir; the server refuses the old certificate from
  // then on (it compares fingerprints). Audited agent.renew.
  Result<RenewResult> AgentRenew(const RenewOptions& o);
  // Accepts the agent's seq gap as lost (services::Agents::AcceptGap); the agent as it is after.
  Result<store::Agent> AgentAcceptGap(const std::string& name);
  // The agent's clock-skew samples since `since`, oldest first.
  Result<std::vector<store::SkewSample>> AgentSkew(const std::string& name, TimePoint since);

  // expected_departure: "mon=17:30,wed=18:00".
  Result<ChildId> ChildAdd(const std::string& facility_code, const std::string& name,
                           const std::string& expected_departure);
  Result<ChildId> ChildAdd(const ChildInput& in);
  // Applies the changes; returns the names of the fields that changed ("name,grade", "" when
  // none), as the audit entry child.update lists them.
  Result<std::string> ChildUpdate(ChildId id, const ChildChanges& changes);
  // Withdraws the child from the start of `date` in its facility's zone (now when nullopt);
  // returns how many cards were retired.
  Result<int> ChildWithdraw(ChildId id, std::optional<LocalDate> date);
  // A guardian's call: the child will not come from..to (inclusive); returns the absence id.
  Result<std::int64_t> ChildAbsent(ChildId id, const LocalDate& from, const LocalDate& to,
                                   const std::string& reason);
  // The facility's calendar from..to: closed, another expected-arrival time, or ordinary.
  Status FacilityCalendar(const std::string& code, const LocalDate& from, const LocalDate& to,
                          bool closed, std::optional<LocalTime> expected_arrival_by);
  // Computes the token from the IDm with the home's card key; the IDm is not stored.
  Result<CardToken> CardAssign(ChildId child, const std::string& idm_hex);
  Status CardLost(const CardToken& token);
  Result<CardToken> CardLostOfChild(ChildId child);
  Result<store::Card> CardFound(const CardToken& token);
  Result<store::Card> CardRetire(const CardToken& token);
  // The child's new card from its IDm; returns the card retired and the new token.
  Result<std::pair<store::Card, CardToken>> CardReplace(ChildId child, const std::string& idm_hex);
  Result<std::vector<store::Card>> CardList(std::optional<CardStatus> status);
  Result<std::vector<store::CardStatusChange>> CardHistory(const CardToken& token);
  // card assign --batch (card_batch.cpp): every row checked and assigned with the services'
  // rules in one transaction, each in a savepoint; committed only when no row failed and not
  // a dry run. Result failure: the store failed (nothing written).
  Result<CardBatchReport> CardAssignBatch(const CardBatchFile& file, const CardBatchOptions& o);
  // card shipping (card_shipping.cpp): writes o.out_dir/shipping.csv and letters.pdf, then
  // marks the cards shipped in one transaction. Reads [mail] of the home's server.toml.
  Result<ShippingReport> CardShipping(const ShippingOptions& o);
  Result<services::VerificationTicket> GuardianAdd(const GuardianOptions& o);
  Status GuardianVerify(GuardianId id, const std::string& code);

  // Imports a parsed application file, all or nothing (import/apply.hpp).
  Result<import::ImportReport> ImportApplications(const import::ParsedApplications& parsed,
                                                  const import::ImportOptions& options);

  // Recomputes the audit log's hash chain.
  Status AuditVerify();

  // The read side (search, records, taps, mail, alerts, audit), audited as this operator.
  services::Inquiries& inquiries() { return inquiries_; }
  // Guardian changes (update, prefs, remove, resend), audited with Who().
  services::Guardians& guardians() { return guardians_; }
  // The operator at this moment, for the services' audit entries.
  store::Actor Who() const { return store::Actor{user_, clock_->Now()}; }
  // The zone a facility's times are shown in.
  Result<std::shared_ptr<const TimeZone>> ZoneOf(const store::Facility& f) {
    return zones_.Get(f.tz_name);
  }

  store::Store& store() { return *store_; }
  // The card's token from its IDm (16 hex digits) with the home's card key.
  Result<CardToken> TokenOfIdm(const std::string& idm_hex) const;

 private:
  Admin(std::filesystem::path home, std::string user, std::shared_ptr<const Clock> clock,
        std::unique_ptr<store::Store> store);
  Result<CardKey> HomeCardKey() const;

  const std::filesystem::path home_;
  const std::string user_;
  const std::shared_ptr<const Clock> clock_;
  std::unique_ptr<store::Store> store_;
  sys::TimeZones zones_;  // each zone loaded once
  services::Facilities facilities_;
  services::Agents agents_;
  services::Children children_;
  services::Cards cards_;
  services::Guardians guardians_;
  services::Inquiries inquiries_;
};

// Parses "mon=17:30,wed=18:00" into a schedule.
Result<ChildSchedule> ParseExpectedDeparture(std::string_view text);

// The anshin-admin command line. Returns the process exit code; writes results to out and
// errors to err.
int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace anshin::admin

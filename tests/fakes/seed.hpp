// Seed: builds a small deployment in a real store through the real services (the way
// anshin-admin does), for tests of what sits on top: ingest, the mailer, the console.
// Every helper throws (std::runtime_error with the Status) when the service refuses, so a test
// reads as the situation it sets up, and a benchmark can use it outside Catch too.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "services/agents.hpp"
#include "services/cards.hpp"
#include "services/children.hpp"
#include "services/facilities.hpp"
#include "services/guardians.hpp"
#include "store/store.hpp"

namespace anshin::fakes {

// A zone loader for tests: every zone is Asia/Tokyo's fixed +09:00 (no zone files needed).
inline services::ZoneLoader FixedJst() {
  return [](const std::string& name) -> Result<std::shared_ptr<const TimeZone>> {
    return std::make_shared<const TimeZone>(TimeZone::Fixed(name, 9 * 3600));
  };
}

inline CardToken Token(char c) { return CardToken::Parse(std::string(32, c)).value(); }

// The value, or an exception naming what failed.
template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) throw std::runtime_error(std::string(what) + ": " + r.status().ToString());
  return std::move(r).value();
}
inline void Must(const Status& s, const char* what) {
  if (!s.ok()) throw std::runtime_error(std::string(what) + ": " + s.ToString());
}

class Seed {
 public:
  Seed(store::Store& store, store::Actor who)
      : who(std::move(who)),
        facilities(store, FixedJst()),
        agents(store),
        children(store),
        cards(store),
        guardians(store) {}

  FacilityId Facility(const std::string& code, const std::string& name) {
    store::Facility f;
    f.code = code;
    f.name = name;
    return Must(facilities.Add(f, who), "seed facility");
  }
  AgentId Agent(const std::string& name, FacilityId facility, const std::string& cert_sha256) {
    store::Agent a;
    a.name = name;
    a.facility = facility;
    a.cert_sha256 = cert_sha256;
    a.enrolled_at = who.at;
    return Must(agents.Enroll(a, who), "seed agent");
  }
  ChildId Child(const std::string& name, FacilityId facility) {
    store::Child c;
    c.name = name;
    c.facility = facility;
    return Must(children.Add(c, who), "seed child");
  }
  ChildId ChildWithCard(const std::string& name, FacilityId facility, const CardToken& card) {
    ChildId id = Child(name, facility);
    Must(cards.Assign(id, card, who), "seed card");
    return id;
  }
  services::VerificationTicket Guardian(ChildId child, const std::string& email) {
    store::Guardian g;
    g.child = child;
    g.email = email;
    return Must(guardians.Add(g, who), "seed guardian");
  }
  GuardianId VerifiedGuardian(ChildId child, const std::string& email) {
    services::VerificationTicket t = Guardian(child, email);
    Must(guardians.VerifyByCode(t.guardian, t.code, who), "seed verification");
    return t.guardian;
  }

  store::Actor who;
  services::Facilities facilities;
  services::Agents agents;
  services::Children children;
  services::Cards cards;
  services::Guardians guardians;
};

}  // namespace anshin::fakes

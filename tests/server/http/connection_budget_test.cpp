// ConnectionBudget: the accept-time rules of connection_budget.hpp, as pure bookkeeping.
#include "notify-server/http/connection_budget.hpp"

#include <catch2/catch.hpp>

namespace anshin::server {
namespace {

using Phase = ConnectionBudget::Phase;

TEST_CASE("per-address limit refuses the new connection and keeps the old ones", "[budget]") {
  ConnectionBudget b({.max_connections = 10, .max_pending = 10, .max_per_address = 2});
  CHECK(b.Admit(1, "192.0.2.1").admitted);
  CHECK(b.Admit(2, "192.0.2.1").admitted);
  ConnectionBudget::Admission third = b.Admit(3, "192.0.2.1");
  CHECK_FALSE(third.admitted);
  CHECK(std::string(third.refused_because) == "per_address");
  CHECK(third.evicted.empty());
  CHECK(b.Admit(4, "192.0.2.2").admitted);  // another address is not affected
  b.Release(1);
  CHECK(b.from("192.0.2.1") == 1);
  CHECK(b.Admit(5, "192.0.2.1").admitted);
}

TEST_CASE("trusted proxies are not limited per address", "[budget]") {
  ConnectionBudget b({.max_connections = 10,
                      .max_pending = 10,
                      .max_per_address = 1,
                      .trusted_proxies = {"127.0.0.1"}});
  for (ConnectionBudget::Id id = 1; id <= 5; ++id) CHECK(b.Admit(id, "127.0.0.1").admitted);
  CHECK(b.open() == 5);
}

TEST_CASE("silent connections give way first, then those mid-handshake", "[budget]") {
  ConnectionBudget b({.max_connections = 100, .max_pending = 3, .max_per_address = 0});
  REQUIRE(b.Admit(1, "a").admitted);
  REQUIRE(b.Admit(2, "a").admitted);
  REQUIRE(b.Admit(3, "a").admitted);
  b.SetPhase(1, Phase::kHandshake);  // 1 sent its ClientHello; 2 and 3 are silent
  ConnectionBudget::Admission fourth = b.Admit(4, "a");
  CHECK(fourth.admitted);
  CHECK(fourth.evicted == std::vector<ConnectionBudget::Id>{2});
  CHECK_FALSE(b.Holds(2));
  CHECK(b.Holds(1));
  b.SetPhase(3, Phase::kHandshake);
  b.SetPhase(4, Phase::kHandshake);
  CHECK(b.Admit(5, "a").evicted == std::vector<ConnectionBudget::Id>{1});  // oldest handshake
  CHECK(b.pending() == 3);
  // An evicted connection's late updates are no-ops.
  b.SetPhase(2, Phase::kBusy);
  b.Release(2);
  CHECK(b.open() == 3);
}

TEST_CASE("a full listener evicts pending, then idle, and refuses when all are busy", "[budget]") {
  ConnectionBudget b({.max_connections = 3, .max_pending = 3, .max_per_address = 0});
  REQUIRE(b.Admit(1, "a").admitted);
  REQUIRE(b.Admit(2, "a").admitted);
  REQUIRE(b.Admit(3, "a").admitted);
  b.SetPhase(1, Phase::kBusy);
  b.SetPhase(2, Phase::kIdle);
  CHECK(b.Admit(4, "a").evicted == std::vector<ConnectionBudget::Id>{3});  // the pending one
  b.SetPhase(4, Phase::kBusy);
  CHECK(b.Admit(5, "a").evicted == std::vector<ConnectionBudget::Id>{2});  // then the idle one
  b.SetPhase(5, Phase::kBusy);
  ConnectionBudget::Admission full = b.Admit(6, "a");
  CHECK_FALSE(full.admitted);
  CHECK(std::string(full.refused_because) == "full");
  CHECK(full.evicted.empty());
  CHECK(b.open() == 3);
  b.Release(4);
  CHECK(b.Admit(7, "a").admitted);
}

}  // namespace
}  // namespace anshin::server

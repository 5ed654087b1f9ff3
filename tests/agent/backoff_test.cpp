#include "reader-agent/backoff.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

namespace anshin::agent {

TEST_CASE("backoff doubles within jitter and stops at the maximum", "[backoff]") {
  Backoff b(Millis(100), Millis(1000), 42);
  Millis base(100);
  for (int i = 0; i < 10; ++i) {
    Millis d = b.Next();
    CHECK(d >= base / 2);
    CHECK(d <= base);
    base = std::min(base * 2, Millis(1000));
  }
  CHECK(b.failures() == 10);
}

TEST_CASE("backoff restarts at the minimum after Reset", "[backoff]") {
  Backoff b(Millis(100), Millis(10'000), 7);
  for (int i = 0; i < 6; ++i) (void)b.Next();
  b.Reset();
  CHECK(b.failures() == 0);
  Millis d = b.Next();
  CHECK(d >= Millis(50));
  CHECK(d <= Millis(100));
}

TEST_CASE("backoff jitter spreads agents", "[backoff]") {
  std::set<std::int64_t> seen;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Backoff b(Millis(1000), Millis(60'000), seed);
    (void)b.Next();
    seen.insert(b.Next().count());
  }
  CHECK(seen.size() > 10);
}

TEST_CASE("backoff with the same seed is reproducible", "[backoff]") {
  Backoff a(Millis(10), Millis(5000), 99), b(Millis(10), Millis(5000), 99);
  for (int i = 0; i < 12; ++i) CHECK(a.Next() == b.Next());
}

}  // namespace anshin::agent

#include "reader-agent/tap_detector.hpp"

#include <catch2/catch.hpp>

namespace anshin::agent {
namespace {

const Idm kA = Idm::Parse("0123456789abcdef").value();
const Idm kB = Idm::Parse("fedcba9876543210").value();
const std::optional<Idm> kNone;

TimePoint At(int ms) { return FromUnixMillis(ms); }

}  // namespace

TEST_CASE("a card resting on the reader is one tap", "[tap_detector]") {
  TapDetector d(Millis(2000));
  CHECK(d.Sample(kNone, At(0)) == std::nullopt);
  CHECK(d.Sample(kA, At(100)) == kA);
  for (int t = 200; t <= 10'000; t += 100) CHECK(d.Sample(kA, At(t)) == std::nullopt);
  CHECK(d.present() == kA);
}

TEST_CASE("the same card needs removal and the debounce to tap again", "[tap_detector]") {
  TapDetector d(Millis(2000));
  CHECK(d.Sample(kA, At(0)) == kA);
  CHECK(d.Sample(kNone, At(500)) == std::nullopt);   // removed at 500
  CHECK(d.Sample(kA, At(1500)) == std::nullopt);     // back within 2 s: flapping
  CHECK(d.Sample(kNone, At(1600)) == std::nullopt);  // removed again at 1600
  CHECK(d.Sample(kNone, At(3500)) == std::nullopt);
  CHECK(d.Sample(kA, At(3600)) == kA);  // 2 s after the last removal: new tap
}

TEST_CASE("debounce boundary is measured from the removal", "[tap_detector]") {
  TapDetector d(Millis(2000));
  CHECK(d.Sample(kA, At(0)) == kA);
  CHECK(d.Sample(kNone, At(10'000)) == std::nullopt);
  CHECK(d.Sample(kA, At(11'999)) == std::nullopt);
  CHECK(d.Sample(kNone, At(12'000)) == std::nullopt);
  CHECK(d.Sample(kA, At(14'000)) == kA);  // exactly the debounce after removal
}

TEST_CASE("a different card is always a new tap", "[tap_detector]") {
  TapDetector d(Millis(2000));
  CHECK(d.Sample(kA, At(0)) == kA);
  CHECK(d.Sample(kB, At(100)) == kB);  // swapped without an empty sample
  CHECK(d.Sample(kNone, At(200)) == std::nullopt);
  CHECK(d.Sample(kA, At(300)) == kA);  // A left at 100, B is the last removed card
  CHECK(d.Sample(kNone, At(400)) == std::nullopt);
  CHECK(d.Sample(kB, At(500)) == kB);
}

TEST_CASE("a card swapped back within the debounce is flapping", "[tap_detector]") {
  TapDetector d(Millis(2000));
  CHECK(d.Sample(kA, At(0)) == kA);
  CHECK(d.Sample(kB, At(100)) == kB);
  CHECK(d.Sample(kA, At(200)) == kA);  // A left at 100, but B left last: A is a new tap
  CHECK(d.Sample(kNone, At(300)) == std::nullopt);
  CHECK(d.Sample(kA, At(400)) == std::nullopt);  // A itself left at 300
}

TEST_CASE("zero debounce: every re-presentation is a tap", "[tap_detector]") {
  TapDetector d(Millis(0));
  CHECK(d.Sample(kA, At(0)) == kA);
  CHECK(d.Sample(kNone, At(100)) == std::nullopt);
  CHECK(d.Sample(kA, At(100)) == kA);
}

TEST_CASE("no card, ever, is no tap", "[tap_detector]") {
  TapDetector d(Millis(2000));
  for (int t = 0; t < 1000; t += 100) CHECK(d.Sample(kNone, At(t)) == std::nullopt);
  CHECK_FALSE(d.present().has_value());
}

}  // namespace anshin::agent

#include "reader-agent/simulated_card_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "reader-agent/reader_factory.hpp"
#include "tests/agent/test_util.hpp"

namespace anshin::agent {
namespace {

using testing::ManualClock;
using testing::TempDir;

const Idm kA = Idm::Parse("0123456789abcdef").value();
const Idm kB = Idm::Parse("1111111111111111").value();

}  // namespace

TEST_CASE("tap lines parse, comments and blanks are skipped", "[simulated]") {
  auto taps =
      ParseTapScript("# a comment\n\n  250 0123456789ABCDEF  # trailing\n0\t1111111111111111\r\n");
  REQUIRE(taps.ok());
  REQUIRE(taps->size() == 2);
  CHECK((*taps)[0].delay == Millis(250));
  CHECK((*taps)[0].idm == kA);
  CHECK((*taps)[1].delay == Millis(0));
  CHECK((*taps)[1].idm == kB);
}

TEST_CASE("bad tap lines name the line", "[simulated]") {
  auto missing = ParseTapScript("100 0123456789abcdef\n200\n");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(), Catch::StartsWith("line 2:"));
  auto negative = ParseTapScript("-5 0123456789abcdef\n");
  REQUIRE_FALSE(negative.ok());
  CHECK_THAT(negative.status().message(), Catch::Contains("line 1: delay"));
  auto extra = ParseTapScript("5 0123456789abcdef 100 x\n");
  REQUIRE_FALSE(extra.ok());
  CHECK_THAT(extra.status().message(), Catch::Contains("line 1: expected"));
  auto short_idm = ParseTapScript("\n\n5 0123\n");
  REQUIRE_FALSE(short_idm.ok());
  CHECK_THAT(short_idm.status().message(), Catch::StartsWith("line 3:"));
}

TEST_CASE("a script presents each card for a moment, then removes it", "[simulated]") {
  TempDir dir;
  ManualClock clock;
  auto path = dir.Write("taps.txt", "100 0123456789abcdef\n500 1111111111111111\n");
  SimulatedCardReader r(SimulatedCardReader::Source::kScript, path, clock, Millis(300));
  REQUIRE(r.Open().ok());
  CHECK(r.Poll().value() == std::nullopt);
  clock.Advance(Millis(100));
  CHECK(r.Poll().value() == kA);
  clock.Advance(Millis(200));
  CHECK(r.Poll().value() == kA);
  clock.Advance(Millis(100));
  CHECK(r.Poll().value() == std::nullopt);  // removed after 300 ms
  clock.Advance(Millis(499));
  CHECK(r.Poll().value() == std::nullopt);
  clock.Advance(Millis(1));
  CHECK(r.Poll().value() == kB);  // 500 ms after the removal
  clock.Advance(Millis(1000));
  CHECK(r.Poll().value() == std::nullopt);
  CHECK(r.Poll().value() == std::nullopt);  // script done
}

TEST_CASE("a line may set how long its card rests", "[simulated]") {
  TempDir dir;
  ManualClock clock;
  auto path = dir.Write("taps.txt", "0 0123456789abcdef 5000\n");
  auto taps = ParseTapScript("0 0123456789abcdef 5000\n").value();
  CHECK(taps[0].present_for == Millis(5000));
  SimulatedCardReader r(SimulatedCardReader::Source::kScript, path, clock, Millis(300));
  REQUIRE(r.Open().ok());
  CHECK(r.Poll().value() == kA);
  clock.Advance(Millis(4999));
  CHECK(r.Poll().value() == kA);
  clock.Advance(Millis(1));
  CHECK(r.Poll().value() == std::nullopt);
}

TEST_CASE("a card is seen at least once even if polls are slow", "[simulated]") {
  TempDir dir;
  ManualClock clock;
  auto path = dir.Write("taps.txt", "0 0123456789abcdef\n0 0123456789abcdef\n");
  SimulatedCardReader r(SimulatedCardReader::Source::kScript, path, clock, Millis(10));
  REQUIRE(r.Open().ok());
  CHECK(r.Poll().value() == kA);
  clock.Advance(Millis(5000));
  CHECK(r.Poll().value() == std::nullopt);  // the removal is always seen
  CHECK(r.Poll().value() == kA);
}

TEST_CASE("a bad script fails Open naming the file and line", "[simulated]") {
  TempDir dir;
  ManualClock clock;
  auto path = dir.Write("bad.txt", "100 zz\n");
  SimulatedCardReader r(SimulatedCardReader::Source::kScript, path, clock);
  Status s = r.Open();
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("bad.txt") && Catch::Contains("line 1"));
  SimulatedCardReader missing(SimulatedCardReader::Source::kScript, dir.path() / "nope", clock);
  CHECK_FALSE(missing.Open().ok());
  CHECK_FALSE(missing.Poll().ok());
}

TEST_CASE("a FIFO delivers taps as lines arrive", "[simulated]") {
  TempDir dir;
  ManualClock clock;
  auto path = dir.path() / "taps.fifo";
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  SimulatedCardReader r(SimulatedCardReader::Source::kFifo, path, clock, Millis(100));
  REQUIRE(r.Open().ok());  // no writer yet: does not block
  CHECK(r.Poll().value() == std::nullopt);
  int w = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
  REQUIRE(w >= 0);
  std::string part1 = "0 0123456789ab", part2 = "cdef\n# note\n";
  REQUIRE(::write(w, part1.data(), part1.size()) == static_cast<ssize_t>(part1.size()));
  CHECK(r.Poll().value() == std::nullopt);  // half a line is not a tap
  REQUIRE(::write(w, part2.data(), part2.size()) == static_cast<ssize_t>(part2.size()));
  CHECK(r.Poll().value() == kA);
  ::close(w);  // the writer goes away; the reader keeps working
  clock.Advance(Millis(100));
  CHECK(r.Poll().value() == std::nullopt);
  w = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
  REQUIRE(w >= 0);
  std::string bad = "x 1\n";
  REQUIRE(::write(w, bad.data(), bad.size()) == static_cast<ssize_t>(bad.size()));
  auto fault = r.Poll();
  REQUIRE_FALSE(fault.ok());
  CHECK_THAT(fault.status().message(), Catch::Contains("line 3"));
  ::close(w);
}

TEST_CASE("the factory picks simulated readers by prefix", "[simulated]") {
  ManualClock clock;
  CHECK(MakeCardReader("simulated:/x/y", clock).value()->Describe() == "simulated:/x/y");
  CHECK(MakeCardReader("simulated-fifo:/x/f", clock).value()->Describe() == "simulated-fifo:/x/f");
  CHECK_FALSE(MakeCardReader("simulated:", clock).ok());
  CHECK(MakeCardReader("pn532_uart:/dev/ttyUSB0", clock).value()->Describe() ==
        "pn532_uart:/dev/ttyUSB0");
}

}  // namespace anshin::agent

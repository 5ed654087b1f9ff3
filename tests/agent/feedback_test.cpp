#include "reader-agent/feedback.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/agent/test_util.hpp"

namespace anshin::agent {
namespace {

using testing::TempDir;

void WaitFinished(const Feedback& f, std::uint64_t n) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (f.finished() < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("commands split without a shell", "[feedback]") {
  CHECK(SplitCommand("aplay /usr/share/anshin/ok.wav").value() ==
        std::vector<std::string>{"aplay", "/usr/share/anshin/ok.wav"});
  CHECK(SplitCommand("  say 'hello world'  \"a \\\"b\\\"\" c\\ d ").value() ==
        std::vector<std::string>{"say", "hello world", "a \"b\"", "c d"});
  CHECK(SplitCommand("echo ''").value() == std::vector<std::string>{"echo", ""});
  CHECK(SplitCommand("echo $HOME; rm -rf /").value() ==
        std::vector<std::string>{"echo", "$HOME;", "rm", "-rf", "/"});
  CHECK(SplitCommand("").value().empty());
  CHECK_FALSE(SplitCommand("say 'oops").ok());
}

TEST_CASE("RunCommand reports exit status, spawn errors and timeouts", "[feedback]") {
  CHECK(RunCommand({"true"}, Millis(5000)).value() == 0);
  CHECK(RunCommand({"sh", "-c", "exit 7"}, Millis(5000)).value() == 7);
  auto missing = RunCommand({"/nonexistent/beep"}, Millis(5000));
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(), Catch::Contains("No such file"));
  auto start = std::chrono::steady_clock::now();
  auto slow = RunCommand({"sleep", "30"}, Millis(200));
  REQUIRE_FALSE(slow.ok());
  CHECK_THAT(slow.status().message(), Catch::Contains("killed after 200 ms"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("each outcome prints a line and runs its own command", "[feedback]") {
  TempDir dir;
  auto out = dir.path() / "ran.txt";
  auto cmd = [&](const std::string& word) {
    return std::vector<std::string>{"sh", "-c", "echo " + word + " >> " + out.string()};
  };
  std::ostringstream console;
  {
    Feedback f({cmd("ok"), cmd("unknown"), cmd("fault")}, Millis(5000), console);
    f.Signal(Outcome::kAccepted, "tap #1 saved");
    WaitFinished(f, 1);
    f.Signal(Outcome::kNotRegistered, "card not registered");
    WaitFinished(f, 2);
    f.Signal(Outcome::kReaderError, "device gone");
    WaitFinished(f, 3);
  }
  CHECK(Slurp(out) == "ok\nunknown\nfault\n");
  CHECK(console.str() ==
        "anshin-agent: accepted: tap #1 saved\n"
        "anshin-agent: not_registered: card not registered\n"
        "anshin-agent: reader_error: device gone\n");
}

TEST_CASE("a slow feedback command never blocks the tap path", "[feedback]") {
  std::ostringstream console;
  Feedback f({{"sleep", "5"}, {}, {}}, Millis(300), console);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) f.Signal(Outcome::kAccepted, "tap");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(100));
  WaitFinished(f, 10);
  CHECK(f.finished() == 10);  // waiting ones dropped, running ones killed at the timeout
}

}  // namespace anshin::agent

// card enroll: the card's IDm read through the real libnfc (pn532_uart driver) from the PN532
// emulator on a pseudo-terminal, bound to the child; only the token is stored.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "common/sys/sys.hpp"
#include "tests/nfc/pn532_emulator_process.hpp"
#include "tests/provisioning/cli_harness.hpp"

namespace anshin::admin::testing {
namespace {

using anshin::testing::Pn532EmulatorProcess;

constexpr const char* kIdmA = "0123456789abcdef";
constexpr const char* kIdmB = "01fe0a0b0c0d0e0f";
constexpr const char* kIdmC = "0102030405060708";

std::string Trim(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

struct EnrollHome : TestHome {
  Pn532EmulatorProcess emu{dir.path()};
  EnrollHome() {
    anshin::testing::DisableLibnfcAutoScan();
    const Status s = emu.Start();
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
  std::string AddChild(const std::string& name, const std::string& number) {
    auto r = Run({"child", "add", "--facility", "hikari-1", "--name", name, "--number", number,
                  "--format", "id"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    return Trim(r.out);
  }
  std::optional<store::Card> ActiveCard(const std::string& child) const {
    return Read(
        [&](store::ReadTxn& txn) { return txn.cards().ActiveOf(ChildId{std::stoll(child)}); });
  }
  CardToken TokenOf(const char* idm) const {
    auto admin = Admin::Open(home, "tester").value();
    return admin->TokenOfIdm(idm).value();
  }
  // Every byte the home holds on disk (the database and its WAL).
  std::string AllBytes() const {
    std::string all;
    for (const auto& e : std::filesystem::recursive_directory_iterator(home)) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path(), std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return all;
  }
};

TEST_CASE("card enroll reads the IDm from the reader and stores only its token", "[admin][nfc]") {
  EnrollHome h;
  const std::string sakura = h.AddChild("練馬 さくら", "N-0001");
  REQUIRE(h.emu.Present(kIdmA).ok());
  auto r =
      h.Run({"card", "enroll", "--reader", h.emu.connstring(), "--child", sakura, "--wait", "10"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const CardToken token = h.TokenOf(kIdmA);
  CHECK(r.out == "card " + token.hex().substr(0, 8) + "… assigned to child " + sakura +
                     " (練馬 さくら, N-0001)\n");
  CHECK(r.err.find("put the new card on the reader") != std::string::npos);
  auto card = h.ActiveCard(sakura);
  REQUIRE(card);
  CHECK(card->token == token);
  // The IDm itself is nowhere in the home, in any spelling.
  const std::string bytes = h.AllBytes();
  CHECK(bytes.find(kIdmA) == std::string::npos);
  CHECK(bytes.find("0123456789ABCDEF") == std::string::npos);
  CHECK(bytes.find(std::string("\x01\x23\x45\x67\x89\xab\xcd\xef", 8)) == std::string::npos);
}

TEST_CASE("card enroll --facility gives each child without a card the next new card",
          "[admin][nfc]") {
  EnrollHome h;
  const std::string sakura = h.AddChild("練馬 さくら", "N-0001");
  REQUIRE(h.Run({"card", "assign", "--child", sakura, "--idm", kIdmA}).code == 0);
  const std::string yui = h.AddChild("練馬 ゆい", "N-0002");
  const std::string sora = h.AddChild("練馬 そら", "N-0003");

  // Sakura's card is put first by mistake: refused in words, and the run waits for another.
  REQUIRE(h.emu.Present(kIdmA).ok());
  CliResult r;
  std::thread run([&] {
    r = h.Run({"card", "enroll", "--reader", h.emu.connstring(), "--facility", "hikari-1", "--wait",
               "20"});
  });
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto wait_for = [&](const std::string& child) {
    while (!h.ActiveCard(child) && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return h.ActiveCard(child).has_value();
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  REQUIRE(h.emu.Present(kIdmB).ok());
  const bool yui_done = wait_for(yui);
  // Yui's card still lies on the reader: it is not taken for Sora.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK_FALSE(h.ActiveCard(sora));
  REQUIRE(h.emu.Present(kIdmC).ok());
  const bool sora_done = wait_for(sora);
  run.join();
  INFO(r.err);
  REQUIRE(yui_done);
  REQUIRE(sora_done);
  CHECK(r.code == 0);
  CHECK(r.err.find("this card was not assigned: card already assigned to child " + sakura) !=
        std::string::npos);
  CHECK(h.ActiveCard(yui)->token == h.TokenOf(kIdmB));
  CHECK(h.ActiveCard(sora)->token == h.TokenOf(kIdmC));
  CHECK(h.ActiveCard(sakura)->token == h.TokenOf(kIdmA));
  CHECK(r.out.find("card enroll: 2 cards enrolled") != std::string::npos);
}

TEST_CASE("card enroll says what went wrong with the reader or the wait", "[admin][nfc]") {
  EnrollHome h;
  const std::string sakura = h.AddChild("練馬 さくら", "N-0001");
  auto none =
      h.Run({"card", "enroll", "--reader", h.emu.connstring(), "--child", sakura, "--wait", "1"});
  CHECK(none.code != 0);
  CHECK(none.err.find("no new card was put on the reader within 1 s") != std::string::npos);
  CHECK(none.err.find("0 of 1 cards enrolled") != std::string::npos);
  CHECK_FALSE(h.ActiveCard(sakura));

  auto absent = h.Run({"card", "enroll", "--reader", "pn532_uart:/nonexistent/ttyUSB9", "--child",
                       sakura, "--wait", "1"});
  CHECK(absent.code != 0);
  CHECK(absent.err.find("/nonexistent/ttyUSB9") != std::string::npos);
  CHECK(h.Run({"card", "enroll", "--reader", "simulated:/tmp/x", "--child", sakura}).code != 0);
  CHECK(h.Run({"card", "enroll", "--reader", h.emu.connstring()}).code != 0);
}

}  // namespace
}  // namespace anshin::admin::testing

// NfcCardReader against the unmodified libnfc (pn532_uart driver) talking to the PN532
// emulator on a pseudo-terminal: reading, removal, 424 kbps, unplug/replug, a hung reader.
#include "reader-agent/nfc_card_reader.hpp"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "tests/nfc/pn532_emulator_process.hpp"

namespace anshin::agent {
namespace {

using anshin::testing::Pn532EmulatorProcess;
using Clock = std::chrono::steady_clock;

constexpr const char* kIdm = "0123456789abcdef";
constexpr const char* kOtherIdm = "01fe0a0b0c0d0e0f";

// A fresh directory under $TMPDIR (short: it holds a UNIX socket), removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "anshin-nfc-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) FAIL("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

long long MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

Idm IdmOf(const char* hex) {
  auto idm = Idm::Parse(hex);
  REQUIRE(idm.ok());
  return *idm;
}

// Starts the emulator in `dir`; Catch2 output includes the frame log when a check fails.
void StartEmulator(Pn532EmulatorProcess& emu) {
  anshin::testing::DisableLibnfcAutoScan();
  const Status s = emu.Start();
  INFO(s.ToString());
  REQUIRE(s.ok());
}

TEST_CASE("NfcCardReader reads the IDm of a FeliCa card and sees it leave", "[nfc]") {
  TempDir dir;
  Pn532EmulatorProcess emu(dir.path());
  StartEmulator(emu);
  NfcCardReader reader(emu.connstring());
  CHECK(reader.Describe() == emu.connstring());

  const auto open_start = Clock::now();
  const Status opened = reader.Open();
  const long long open_ms = MillisSince(open_start);
  INFO(opened.ToString() << "\nframes:\n" << emu.FrameLog());
  REQUIRE(opened.ok());
  CHECK(open_ms < 1000);
  std::printf("NfcCardReader::Open against the emulator: %lld ms\n", open_ms);

  auto empty = reader.Poll();
  REQUIRE(empty.ok());
  CHECK_FALSE(empty->has_value());

  REQUIRE(emu.Present(kIdm).ok());
  const auto poll_start = Clock::now();
  auto read = reader.Poll();
  const long long poll_ms = MillisSince(poll_start);
  REQUIRE(read.ok());
  REQUIRE(read->has_value());
  CHECK(**read == IdmOf(kIdm));
  std::printf("NfcCardReader::Poll with a card: %lld ms\n", poll_ms);

  // A card resting on the reader keeps being reported (tap detection is not the reader's job).
  auto again = reader.Poll();
  REQUIRE(again.ok());
  REQUIRE(again->has_value());
  CHECK(**again == IdmOf(kIdm));

  REQUIRE(emu.Remove().ok());
  const auto gone_start = Clock::now();
  auto gone = reader.Poll();
  const long long gone_ms = MillisSince(gone_start);
  REQUIRE(gone.ok());
  CHECK_FALSE(gone->has_value());
  CHECK(gone_ms < 300);
  std::printf("NfcCardReader::Poll without a card (212 + 424 kbps): %lld ms\n", gone_ms);

  REQUIRE(emu.Present(kOtherIdm).ok());
  auto other = reader.Poll();
  REQUIRE(other.ok());
  REQUIRE(other->has_value());
  CHECK(**other == IdmOf(kOtherIdm));

  auto status = emu.QueryStatus();
  REQUIRE(status.ok());
  CHECK((*status)["errors"] == "0");  // libnfc never sent a frame the chip rejected
  CHECK(std::stoi((*status)["polls"]) >= 5);

  reader.Close();
  status = emu.QueryStatus();
  REQUIRE(status.ok());
  CHECK((*status)["power"] == "down");  // libnfc's close puts the PN532 into PowerDown
}

TEST_CASE("NfcCardReader polls 424 kbps too", "[nfc]") {
  TempDir dir;
  Pn532EmulatorProcess emu(dir.path());
  StartEmulator(emu);
  REQUIRE(emu.Present(kIdm, "baud=424").ok());
  NfcCardReader reader(emu.connstring());
  REQUIRE(reader.Open().ok());
  auto read = reader.Poll();
  REQUIRE(read.ok());
  REQUIRE(read->has_value());
  CHECK(**read == IdmOf(kIdm));

  REQUIRE(emu.Present(kOtherIdm, "baud=212").ok());
  read = reader.Poll();
  REQUIRE(read.ok());
  REQUIRE(read->has_value());
  CHECK(**read == IdmOf(kOtherIdm));
}

TEST_CASE("NfcCardReader reports an unplugged reader and works again once it is back", "[nfc]") {
  TempDir dir;
  Pn532EmulatorProcess emu(dir.path());
  StartEmulator(emu);
  REQUIRE(emu.Present(kIdm).ok());
  NfcCardReader reader(emu.connstring());
  REQUIRE(reader.Open().ok());
  auto read = reader.Poll();
  REQUIRE(read.ok());
  REQUIRE(read->has_value());

  emu.Kill();  // the USB plug is pulled
  const auto fail_start = Clock::now();
  auto failed = reader.Poll();
  const long long fail_ms = MillisSince(fail_start);
  REQUIRE_FALSE(failed.ok());
  INFO(failed.status().ToString());
  CHECK(failed.status().code() == Status::Code::kUnavailable);
  CHECK(failed.status().message().find("libnfc") != std::string::npos);
  CHECK(failed.status().message().find(emu.connstring()) != std::string::npos);
  CHECK(fail_ms < 1000);
  std::printf("Poll failure after unplug: %lld ms (%s)\n", fail_ms,
              failed.status().message().c_str());

  reader.Close();
  const Status reopen = reader.Open();
  REQUIRE_FALSE(reopen.ok());
  CHECK(reopen.code() == Status::Code::kUnavailable);
  CHECK(reopen.message().find(emu.connstring()) != std::string::npos);

  StartEmulator(emu);  // plugged in again: same link, same connstring
  REQUIRE(emu.Present(kOtherIdm).ok());
  const Status back = reader.Open();
  INFO(back.ToString() << "\nframes:\n" << emu.FrameLog());
  REQUIRE(back.ok());
  read = reader.Poll();
  REQUIRE(read.ok());
  REQUIRE(read->has_value());
  CHECK(**read == IdmOf(kOtherIdm));
}

TEST_CASE("NfcCardReader fails a poll of a reader that stops answering, in bounded time", "[nfc]") {
  TempDir dir;
  Pn532EmulatorProcess emu(dir.path());
  StartEmulator(emu);
  NfcCardReader reader(emu.connstring());
  REQUIRE(reader.Open().ok());

  REQUIRE(emu.Mute(true).ok());
  const auto start = Clock::now();
  auto failed = reader.Poll();
  const long long ms = MillisSince(start);
  REQUIRE_FALSE(failed.ok());
  INFO(failed.status().ToString());
  CHECK(failed.status().message().find("libnfc") != std::string::npos);
  CHECK(ms < 1500);
  std::printf("Poll failure of a hung reader: %lld ms (%s)\n", ms,
              failed.status().message().c_str());

  REQUIRE(emu.Mute(false).ok());
  reader.Close();
  REQUIRE(emu.Present(kIdm).ok());
  REQUIRE(reader.Open().ok());
  auto read = reader.Poll();
  REQUIRE(read.ok());
  REQUIRE(read->has_value());
  CHECK(**read == IdmOf(kIdm));
}

TEST_CASE("NfcCardReader reopens a reader it closed (PowerDown, then wake-up)", "[nfc]") {
  TempDir dir;
  Pn532EmulatorProcess emu(dir.path());
  StartEmulator(emu);
  REQUIRE(emu.Present(kIdm).ok());
  NfcCardReader reader(emu.connstring());
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    REQUIRE(reader.Open().ok());
    CHECK(reader.Open().ok());  // opening an open reader is a no-op
    auto read = reader.Poll();
    REQUIRE(read.ok());
    REQUIRE(read->has_value());
    reader.Close();
    reader.Close();  // closing twice is harmless
  }
  auto status = emu.QueryStatus();
  REQUIRE(status.ok());
  CHECK(std::stoi((*status)["wakeups"]) >= 3);
  CHECK((*status)["errors"] == "0");
}

TEST_CASE("NfcCardReader without a device: clear errors", "[nfc]") {
  TempDir dir;
  const std::string connstring = "pn532_uart:" + (dir.path() / "no-such-reader").string();
  NfcCardReader reader(connstring);

  auto early = reader.Poll();
  REQUIRE_FALSE(early.ok());
  CHECK(early.status().code() == Status::Code::kFailedPrecondition);

  const Status s = reader.Open();
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == Status::Code::kUnavailable);
  CHECK(s.message().find(connstring) != std::string::npos);

  NfcCardReader bad_driver("no_such_driver:whatever");
  CHECK_FALSE(bad_driver.Open().ok());
}

}  // namespace
}  // namespace anshin::agent

// Pn532EmulatorProcess: runs tests/nfc/pn532_emulator.py as a child process and controls it,
// so C++ tests can drive the real libnfc (pn532_uart driver) against an emulated reader.
//
//     Pn532EmulatorProcess emu(dir);            // dir: a fresh temp dir owned by the test
//     REQUIRE(emu.Start().ok());                // waits for "ready"; link dir/reader
//     NfcCardReader reader(emu.connstring());   // "pn532_uart:<dir>/reader"
//     REQUIRE(emu.Present("0123456789abcdef").ok());
//     emu.Kill();                               // SIGKILL: the reader is unplugged
//     REQUIRE(emu.Start().ok());                // plugged in again under the same connstring
//
// The child gets a pipe as stdin and runs with --exit-on-stdin-eof, so it dies with the test
// process even when the test crashes; the destructor SIGKILLs and reaps it. Pipes are
// close-on-exec, so other children of the test (e.g. an anshin-agent) do not inherit them.
// Not thread-safe; one object per emulator.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "common/status.hpp"

namespace anshin::testing {

class Pn532EmulatorProcess {
 public:
  // `dir` must exist; the link ("reader"), control socket ("control") and frame log
  // ("frames.log") are created there. Keep the path short: it holds a UNIX socket.
  explicit Pn532EmulatorProcess(std::filesystem::path dir);
  ~Pn532EmulatorProcess();
  Pn532EmulatorProcess(const Pn532EmulatorProcess&) = delete;
  Pn532EmulatorProcess& operator=(const Pn532EmulatorProcess&) = delete;

  // Starts /usr/bin/python3 pn532_emulator.py and waits until it prints "ready".
  Status Start(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Removes the link, then SIGKILL and reap: the pty disappears under libnfc, like an
  // unplugged USB reader (its device node vanishes and open handles get I/O errors).
  void Kill();
  // Clean shutdown ("quit"), falling back to Kill().
  void Stop();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Control commands (see pn532_emulator.py); each fails with the emulator's error line.
  Status Present(const std::string& idm_hex, const std::string& options = "");
  Status Remove();
  Status Mute(bool on);
  // "status" as key → value: card, baud, rf, power, muted, frames, polls, hits, errors, wakeups.
  Result<std::map<std::string, std::string>> QueryStatus();
  // Sends one control line and returns the reply after "ok".
  Result<std::string> Command(const std::string& line);

  std::string connstring() const { return "pn532_uart:" + link_.string(); }
  const std::filesystem::path& link() const { return link_; }
  const std::filesystem::path& log_path() const { return log_; }
  // The frame trace so far (for failure messages).
  std::string FrameLog() const;

 private:
  void ClosePipes();

  std::filesystem::path dir_;
  std::filesystem::path link_;
  std::filesystem::path control_;
  std::filesystem::path log_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;   // write end of the child's stdin; closing it ends the child
  int stdout_fd_ = -1;  // read end of the child's stdout ("ready <link>")
};

// Environment of the libnfc configuration for tests: no USB/serial auto-scan, no config noise.
// Call before nfc_init() (it only sets LIBNFC_AUTO_SCAN=false and LIBNFC_INTRUSIVE_SCAN=false).
void DisableLibnfcAutoScan();

}  // namespace anshin::testing

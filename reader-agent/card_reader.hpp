// CardReader: the agent's view of an NFC reader, one of the process-edge interfaces.
//
// A reader is opened, polled for the FeliCa card currently in its field, and closed. It knows
// nothing about taps: turning "card present / absent" samples into taps (a card resting on the
// reader is one tap; debounce) is TapDetector's job, so every reader implementation behaves
// the same. Not thread-safe: one thread owns a reader.
//
// Failures: Open() fails when the device is absent or does not answer (the caller retries with
// backoff); Poll() fails when the device stops working (unplugged, I/O error): the caller
// Close()s and later Open()s again. Messages carry the library's own text (nfc_strerror).
#pragma once

#include <optional>
#include <string>

#include "common/status.hpp"
#include "common/types.hpp"

namespace anshin::agent {

class CardReader {
 public:
  virtual ~CardReader() = default;
  // "pn532_uart:/dev/ttyUSB0", "simulated:/path/script.txt" — for logs and health.
  virtual std::string Describe() const = 0;
  virtual Status Open() = 0;
  // The IDm of the FeliCa card in the field now, or nullopt when there is none. May block for
  // a short, bounded time (one polling period, well under a second).
  virtual Result<std::optional<Idm>> Poll() = 0;
  virtual void Close() = 0;
};

}  // namespace anshin::agent

// NfcCardReader: the real CardReader, a PN53x reader driven through libnfc.
//
// Open() creates a libnfc context, opens the device named by the connstring
// ("pn532_uart:/dev/ttyUSB0", "pn53x_usb:…"; empty = libnfc's own configuration, i.e.
// /etc/nfc/libnfc.conf, LIBNFC_DEVICE, or the first device found) and makes it an initiator.
// Poll() lists FeliCa targets at 212 kbps, then at 424 kbps, with one finite passive
// activation each (nfc_initiator_list_passive_targets): with a PN532 it returns within a few
// tens of milliseconds, and libnfc's per-command timeouts (300–350 ms) bound it when the device
// stops answering. Close() releases the device and the context.
//
// This is the only file of the project that includes <nfc/nfc.h>. The IDm read from the card is
// returned to the caller and never logged or stored here; logs name only the device.
//
// Ownership and threads: the reader owns its libnfc context and device; not thread-safe (one
// thread owns a reader). libnfc keeps a process-wide driver list that nfc_exit() frees, so use
// one NfcCardReader per process at a time.
//
// Failures (messages carry libnfc's own text from nfc_strerror): Open() → Unavailable when the
// device is absent, busy or does not answer; Poll() → Unavailable when the device fails
// (unplugged, I/O error, timeout) — the caller then Close()s and later Open()s again;
// Poll() before Open() → FailedPrecondition.
#pragma once

#include <optional>
#include <string>

#include "common/status.hpp"
#include "common/types.hpp"
#include "reader-agent/card_reader.hpp"

// libnfc's opaque handles (typedef'd to these struct names in <nfc/nfc-types.h>).
struct nfc_context;
struct nfc_device;

namespace anshin::agent {

class NfcCardReader final : public CardReader {
 public:
  explicit NfcCardReader(std::string connstring);
  ~NfcCardReader() override;
  NfcCardReader(const NfcCardReader&) = delete;
  NfcCardReader& operator=(const NfcCardReader&) = delete;

  // The configured connstring, or after Open() with an empty one, the device libnfc chose.
  std::string Describe() const override;
  Status Open() override;
  Result<std::optional<Idm>> Poll() override;
  void Close() override;

 private:
  // Lists FeliCa targets at one baud rate; nullopt when none answered.
  Result<std::optional<Idm>> PollFelica(int baud_kbps);
  Status DeviceError(const std::string& what) const;

  std::string connstring_;
  std::string opened_connstring_;  // what libnfc actually opened
  nfc_context* context_ = nullptr;
  nfc_device* device_ = nullptr;
};

}  // namespace anshin::agent

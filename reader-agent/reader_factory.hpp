// Picks the CardReader for a `reader.device` value:
//   "simulated:/path"       SimulatedCardReader over a script file
//   "simulated-fifo:/path"  SimulatedCardReader over a FIFO
//   anything else           NfcCardReader with that libnfc connstring ("" = libnfc's default)
// CheckReaderDevice is the one place that says which values are well-formed; MakeCardReader
// refuses the others.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.hpp"
#include "common/time.hpp"
#include "reader-agent/card_reader.hpp"

namespace anshin::agent {

// "" (libnfc's choice), "simulated:PATH", "simulated-fifo:PATH", or a libnfc connstring
// "DRIVER[:PORT[:SPEED]]" of a driver libnfc has: serial drivers (pn532_uart, arygon, acr122s)
// and bus drivers (pn532_i2c, pn532_spi) take an absolute device path and a numeric speed;
// USB drivers (pn53x_usb, acr122_usb) take nothing or "BUS:DEVICE" numbers. The error names
// reader.device and says what is wrong.
Status CheckReaderDevice(std::string_view device);

Result<std::unique_ptr<CardReader>> MakeCardReader(const std::string& device, const Clock& clock);

}  // namespace anshin::agent

#include "reader-agent/reader_factory.hpp"

#include <algorithm>
#include <cctype>

#include "reader-agent/nfc_card_reader.hpp"
#include "reader-agent/simulated_card_reader.hpp"

namespace anshin::agent {
namespace {

constexpr std::string_view kScript = "simulated:", kFifo = "simulated-fifo:";

enum class PortKind { kPath, kUsb };
struct Driver {
  std::string_view name;
  PortKind port;
};
// The drivers Debian 12's libnfc6 is built with (it has no PC/SC drivers).
constexpr Driver kDrivers[] = {
    {"pn53x_usb", PortKind::kUsb},  {"acr122_usb", PortKind::kUsb}, {"pn532_uart", PortKind::kPath},
    {"arygon", PortKind::kPath},    {"acr122s", PortKind::kPath},   {"pn532_i2c", PortKind::kPath},
    {"pn532_spi", PortKind::kPath},
};

bool AllDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

Status Bad(std::string_view device, std::string why) {
  return Status::InvalidArgument("reader.device: \"" + std::string(device) + "\": " + why);
}

}  // namespace

Status CheckReaderDevice(std::string_view device) {
  if (device.empty()) return Status::Ok();
  for (std::string_view prefix : {kFifo, kScript}) {
    if (device.starts_with(prefix)) {
      if (device.size() == prefix.size()) {
        return Bad(device, "a path must follow \"" + std::string(prefix) + "\"");
      }
      return Status::Ok();
    }
  }
  auto colon = device.find(':');
  std::string_view name = device.substr(0, colon);
  std::string_view rest = colon == std::string_view::npos ? "" : device.substr(colon + 1);
  const Driver* driver = nullptr;
  for (const Driver& d : kDrivers) {
    if (d.name == name) driver = &d;
  }
  if (driver == nullptr) {
    std::string names;
    for (const Driver& d : kDrivers) names += (names.empty() ? "" : ", ") + std::string(d.name);
    return Bad(device, "unknown libnfc driver \"" + std::string(name) + "\" (one of " + names +
                           ", or simulated:PATH / simulated-fifo:PATH)");
  }
  if (rest.empty()) return Status::Ok();
  auto second = rest.find(':');
  std::string_view port = rest.substr(0, second);
  std::string_view extra = second == std::string_view::npos ? "" : rest.substr(second + 1);
  switch (driver->port) {
    case PortKind::kPath:
      if (!port.starts_with("/")) {
        return Bad(device, "the port must be an absolute device path such as /dev/ttyUSB0");
      }
      if (second != std::string_view::npos && !AllDigits(extra)) {
        return Bad(device, "the speed after the port must be a number of bauds (e.g. 115200)");
      }
      return Status::Ok();
    case PortKind::kUsb:
      if (!AllDigits(port) || (second != std::string_view::npos && !AllDigits(extra))) {
        return Bad(device, "a USB reader is addressed as " + std::string(name) + ": or " +
                               std::string(name) + ":BUS:DEVICE (numbers)");
      }
      return Status::Ok();
  }
  return Status::Ok();
}

Result<std::unique_ptr<CardReader>> MakeCardReader(const std::string& device, const Clock& clock) {
  ANSHIN_RETURN_IF_ERROR(CheckReaderDevice(device));
  if (device.starts_with(kScript) || device.starts_with(kFifo)) {
    bool fifo = device.starts_with(kFifo);
    std::string path = device.substr(fifo ? kFifo.size() : kScript.size());
    return std::unique_ptr<CardReader>(std::make_unique<SimulatedCardReader>(
        fifo ? SimulatedCardReader::Source::kFifo : SimulatedCardReader::Source::kScript, path,
        clock));
  }
  return std::unique_ptr<CardReader>(std::make_unique<NfcCardReader>(device));
}

}  // namespace anshin::agent

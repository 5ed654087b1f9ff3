#include "reader-agent/reader_factory.hpp"

#include "reader-agent/nfc_card_reader.hpp"
#include "reader-agent/simulated_card_reader.hpp"

namespace anshin::agent {

Result<std::unique_ptr<CardReader>> MakeCardReader(const std::string& device, const Clock& clock) {
  constexpr std::string_view kScript = "simulated:", kFifo = "simulated-fifo:";
  if (device.rfind(kScript, 0) == 0 || device.rfind(kFifo, 0) == 0) {
    bool fifo = device.rfind(kFifo, 0) == 0;
    std::string path = device.substr(fifo ? kFifo.size() : kScript.size());
    if (path.empty())
      return Status::InvalidArgument("reader.device: a path must follow \"" +
                                     std::string(fifo ? kFifo : kScript) + "\"");
    return std::unique_ptr<CardReader>(std::make_unique<SimulatedCardReader>(
        fifo ? SimulatedCardReader::Source::kFifo : SimulatedCardReader::Source::kScript, path,
        clock));
  }
  return std::unique_ptr<CardReader>(std::make_unique<NfcCardReader>(device));
}

}  // namespace anshin::agent

// Picks the CardReader for a `reader.device` value:
//   "simulated:/path"       SimulatedCardReader over a script file
//   "simulated-fifo:/path"  SimulatedCardReader over a FIFO
//   anything else           NfcCardReader with that libnfc connstring ("" = libnfc's default)
#pragma once

#include <memory>
#include <string>

#include "common/status.hpp"
#include "common/time.hpp"
#include "reader-agent/card_reader.hpp"

namespace anshin::agent {

Result<std::unique_ptr<CardReader>> MakeCardReader(const std::string& device, const Clock& clock);

}  // namespace anshin::agent

// CheckAgentConfig: what `anshin-agent --config FILE --check-config` reports before a facility
// PC goes live. Every problem is listed (not just the first), each naming its key:
//  - every key is known (a misspelt one is named, with the key it probably meant) and every
//    value valid (LoadAgentConfigAll);
//  - the enrolment files are readable: the card key parses; the certificate and the private
//    key are PEM, the key matches the certificate, the certificate was issued by the CA in
//    uplink.ca, it is valid now (not expired, not yet valid) and its CN is agent.name;
//  - reader.device is a well-formed connstring (CheckReaderDevice), uplink.server_url a
//    well-formed https URL (CheckServerUrl);
//  - the database's folder exists and is writable by the user running the check (run it as
//    the service user), and the feedback commands exist.
// Nothing is opened on the network or the reader. Thread-compatible; I/O on the files only.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/time.hpp"

namespace anshin::agent {

struct ConfigCheck {
  std::vector<std::string> problems;  // "key: what is wrong"
  std::vector<std::string> notes;     // facts worth seeing when all is well
};

ConfigCheck CheckAgentConfig(const std::filesystem::path& config_path, TimePoint now);

}  // namespace anshin::agent

// The report of `anshin-agent status`: read from the agent's database, which the running agent
// keeps current, so it works while the agent runs (and after it stopped). Plain "key: value"
// lines, stable for scripts; times in RFC 3339 UTC.
#pragma once

#include <string>

#include "common/status.hpp"
#include "common/time.hpp"
#include "reader-agent/agent_store.hpp"

namespace anshin::agent {

Result<std::string> FormatStatus(AgentStore& store, TimePoint now);

}  // namespace anshin::agent

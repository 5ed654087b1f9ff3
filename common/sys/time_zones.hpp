// Loading the system's time zones (process edge: reads $TZDIR or /usr/share/zoneinfo).
//
// LoadTimeZone() looks the zone up and loads it through cctz each time it is called (cctz keeps
// the parsed data of every name it has seen for the life of the process, including the fact
// that a file was not valid zone data). Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "common/status.hpp"
#include "common/time.hpp"

namespace anshin::sys {

// Loads an IANA zone ("Asia/Tokyo") from $TZDIR, or /usr/share/zoneinfo when TZDIR is unset.
// "UTC" needs no file. Errors: InvalidArgument for a name that is not a zone name (empty, "..",
// absolute, characters outside letters, digits and "/_+-."), NotFound naming the zone when no
// such file exists, InvalidArgument when the file is not zone data.
Result<std::shared_ptr<const TimeZone>> LoadTimeZone(const std::string& name);

}  // namespace anshin::sys

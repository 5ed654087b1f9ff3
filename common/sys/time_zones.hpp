// Loading the system's time zones (process edge: reads $TZDIR or /usr/share/zoneinfo).
//
// LoadTimeZone() looks the zone up and loads it through cctz each time it is called (cctz keeps
// the parsed data of every name it has seen for the life of the process, including the fact
// that a file was not valid zone data). TimeZones is the service the binaries share: it loads
// each zone name once and hands out the same immutable TimeZone afterwards. It is thread-safe
// (one mutex; a first load of a name happens under it, so each name is loaded exactly once even
// when many threads ask at the same moment). Failures are not cached: a zone whose file appears
// later (tzdata installed) loads on the next request.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.hpp"
#include "common/time.hpp"

namespace anshin::sys {

// Loads an IANA zone ("Asia/Tokyo") from $TZDIR, or /usr/share/zoneinfo when TZDIR is unset.
// "UTC" needs no file. Errors: InvalidArgument for a name that is not a zone name (empty, "..",
// absolute, characters outside letters, digits and "/_+-."), NotFound naming the zone when no
// such file exists, InvalidArgument when the file is not zone data.
Result<std::shared_ptr<const TimeZone>> LoadTimeZone(const std::string& name);

class TimeZones {
 public:
  using Loader = std::function<Result<std::shared_ptr<const TimeZone>>(const std::string& name)>;

  // Loads with LoadTimeZone.
  TimeZones();
  // Loads with `loader` (tests: fixed zones or a loader that counts or fails).
  explicit TimeZones(Loader loader);
  TimeZones(const TimeZones&) = delete;
  TimeZones& operator=(const TimeZones&) = delete;

  // The zone named `name`, loaded on first use; the error is the loader's.
  Result<std::shared_ptr<const TimeZone>> Get(std::string_view name);

 private:
  const Loader loader_;

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const TimeZone>, std::less<>> zones_;  // guarded by mu_
};

}  // namespace anshin::sys

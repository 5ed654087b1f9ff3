#include "common/sys/time_zones.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <cctz/time_zone.h>

namespace anshin::sys {
namespace {
namespace fs = std::filesystem;

bool IsZoneNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
         c == '_' || c == '+' || c == '-' || c == '.';
}

Status CheckZoneName(const std::string& name) {
  bool chars_ok = true;
  for (char c : name) chars_ok = chars_ok && IsZoneNameChar(c);
  if (name.empty() || !chars_ok || name.find("..") != std::string::npos || name.front() == '/') {
    return Status::InvalidArgument("not a time zone name: \"" + name + "\"");
  }
  return Status::Ok();
}

fs::path ZoneDir() {
  const char* dir = std::getenv("TZDIR");
  return dir && *dir ? fs::path(dir) : fs::path("/usr/share/zoneinfo");
}

}  // namespace

Result<std::shared_ptr<const TimeZone>> LoadTimeZone(const std::string& name) {
  ANSHIN_RETURN_IF_ERROR(CheckZoneName(name));
  if (name == "UTC") return std::make_shared<const TimeZone>();
  // cctz reads the same $TZDIR but only answers yes or no; looking first tells a missing zone
  // from a damaged file.
  fs::path path = ZoneDir() / name;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return Status::NotFound("unknown time zone \"" + name + "\": no file " + path.string() +
                            " (is the tzdata package installed?)");
  }
  cctz::time_zone zone;
  if (!cctz::load_time_zone(name, &zone)) {
    return Status::InvalidArgument("time zone \"" + name + "\": " + path.string() +
                                   " is not valid zone data");
  }
  return std::make_shared<const TimeZone>(name, zone);
}

TimeZones::TimeZones() : TimeZones(Loader(&LoadTimeZone)) {}

TimeZones::TimeZones(Loader loader) : loader_(std::move(loader)) {}

Result<std::shared_ptr<const TimeZone>> TimeZones::Get(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = zones_.find(name);
  if (it != zones_.end()) return it->second;
  ANSHIN_ASSIGN_OR_RETURN(std::shared_ptr<const TimeZone> zone, loader_(std::string(name)));
  zones_.emplace(std::string(name), zone);
  return zone;
}

}  // namespace anshin::sys

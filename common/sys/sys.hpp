// Process-edge utilities shared by the binaries (anshin_sys): files, the system's zone data,
// TOML configuration helpers and logging setup. Unlike anshin_core this library does I/O.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "common/status.hpp"
#include "common/sys/logging.hpp"     // InitLogging
#include "common/sys/time_zones.hpp"  // LoadTimeZone, TimeZones
#include "common/time.hpp"

namespace anshin::sys {

Result<std::string> ReadFile(const std::filesystem::path& path);
// Writes via a temporary file + fsync + rename, with the given permission bits.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data,
                       std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                                      std::filesystem::perms::owner_write |
                                                      std::filesystem::perms::group_read |
                                                      std::filesystem::perms::others_read);

// TOML configuration helpers. Every error names the key ("server.listen: expected a string").
class Config {
 public:
  // Parses a file; an empty path yields the embedded defaults (an empty table).
  static Result<Config> Load(const std::filesystem::path& path);
  static Result<Config> Parse(std::string_view text, std::string source = "config");

  // Each getter returns the default when the key is absent and an error naming the key when
  // it is present with the wrong type or an invalid value. Keys are dotted: "tls.cert".
  Result<std::string> String(std::string_view key, std::string def) const;
  Result<std::int64_t> Int(std::string_view key, std::int64_t def, std::int64_t min,
                           std::int64_t max) const;
  Result<bool> Bool(std::string_view key, bool def) const;
  // "120s", "5m", "2h", "250ms" or an integer number of seconds.
  Result<Millis> Duration(std::string_view key, Millis def) const;
  Result<LocalTime> TimeOfDay(std::string_view key, LocalTime def) const;  // "16:30"
  // A path; relative paths are resolved against the config file's folder.
  Result<std::filesystem::path> Path(std::string_view key, std::filesystem::path def) const;
  // Fails naming the first key of the file that is not in `known` (typos must not pass).
  Status RejectUnknownKeys(std::initializer_list<std::string_view> known) const;
  // The same for a list built at run time (e.g. the server's keys plus the mailer's).
  Status RejectUnknownKeys(std::span<const std::string_view> known) const;
  // Every key (or table) of the file that is not in `known`, in key order.
  std::vector<std::string> UnknownKeys(std::span<const std::string_view> known) const;
  // The same as messages: unknown key "mail.relya" (did you mean "mail.relay"?).
  std::vector<std::string> UnknownKeyProblems(std::span<const std::string_view> known) const;

  const std::filesystem::path& dir() const { return dir_; }
  const std::string& source() const { return source_; }

 private:
  toml::table table_;
  std::filesystem::path dir_;
  std::string source_;
};

// The key of `known` closest to a misspelt one (at most 3 edits away), or "".
std::string NearestKey(std::string_view unknown, std::span<const std::string_view> known);

// Parses "120s", "5m", "2h", "250ms", "1d" or a bare number of seconds.
Result<Millis> ParseDuration(std::string_view text);

}  // namespace anshin::sys

#include "common/sys/sys.hpp"

#include <algorithm>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace anshin::sys {
namespace fs = std::filesystem;

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path.string() + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::Internal("cannot read " + path.string());
  return ss.str();
}

Status WriteFileAtomic(const fs::path& path, std::string_view data, fs::perms perms) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::Internal("cannot create " + tmp.string() + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string err = std::strerror(errno);
      ::close(fd);
      return Status::Internal("cannot write " + tmp.string() + ": " + err);
    }
    done += size_t(n);
  }
  if (::fchmod(fd, static_cast<mode_t>(perms)) != 0 || ::fsync(fd) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    return Status::Internal("cannot finish " + tmp.string() + ": " + err);
  }
  ::close(fd);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status::Internal("cannot rename to " + path.string() + ": " + ec.message());
  return Status::Ok();
}

namespace {
// The largest number a duration may have (any unit: 10^11 days still fits in int64 milliseconds).
constexpr long long kMaxDurationNumber = 100'000'000'000LL;
}  // namespace

Result<Millis> ParseDuration(std::string_view text) {
  auto bad = [&]() {
    return Status::InvalidArgument("expected a duration such as 120s, 5m, 2h, 250ms, got \"" +
                                   std::string(text) + "\"");
  };
  if (text.empty()) return bad();
  size_t i = 0;
  long long n = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    n = n * 10 + (text[i] - '0');
    if (n > kMaxDurationNumber) return bad();
    ++i;
  }
  if (i == 0) return bad();
  std::string_view unit = text.substr(i);
  if (unit.empty() || unit == "s") return Millis(n * 1000);
  if (unit == "ms") return Millis(n);
  if (unit == "m" || unit == "min") return Millis(n * 60'000);
  if (unit == "h") return Millis(n * 3'600'000);
  if (unit == "d") return Millis(n * 86'400'000);
  return bad();
}

Result<Config> Config::Load(const fs::path& path) {
  Config c;
  if (path.empty()) {
    c.source_ = "defaults";
    c.dir_ = fs::current_path();
    return c;
  }
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  auto parsed = Parse(*text, path.string());
  if (!parsed.ok()) return parsed.status();
  parsed->dir_ = fs::absolute(path).parent_path();
  return parsed;
}

Result<Config> Config::Parse(std::string_view text, std::string source) {
  Config c;
  c.source_ = std::move(source);
  c.dir_ = fs::current_path();
  try {
    c.table_ = toml::parse(text, c.source_);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Status::InvalidArgument(c.source_ + ":" + std::to_string(where.line) + ":" +
                                   std::to_string(where.column) + ": " +
                                   std::string(e.description()));
  }
  return c;
}

namespace {
Status WrongType(const Config& c, std::string_view key, const char* want) {
  return Status::InvalidArgument(c.source() + ": " + std::string(key) + ": expected " + want);
}
}  // namespace

Result<std::string> Config::String(std::string_view key, std::string def) const {
  auto node = table_.at_path(key);
  if (!node) return def;
  auto v = node.value<std::string>();
  if (!v || !node.is_string()) return WrongType(*this, key, "a string");
  return *v;
}

Result<std::int64_t> Config::Int(std::string_view key, std::int64_t def, std::int64_t min,
                                 std::int64_t max) const {
  auto node = table_.at_path(key);
  if (!node) return def;
  if (!node.is_integer()) return WrongType(*this, key, "an integer");
  std::int64_t v = *node.value<std::int64_t>();
  if (v < min || v > max) {
    return Status::InvalidArgument(source_ + ": " + std::string(key) + ": " + std::to_string(v) +
                                   " is outside " + std::to_string(min) + ".." +
                                   std::to_string(max));
  }
  return v;
}

Result<bool> Config::Bool(std::string_view key, bool def) const {
  auto node = table_.at_path(key);
  if (!node) return def;
  if (!node.is_boolean()) return WrongType(*this, key, "true or false");
  return *node.value<bool>();
}

Result<Millis> Config::Duration(std::string_view key, Millis def) const {
  auto node = table_.at_path(key);
  if (!node) return def;
  if (node.is_integer()) {
    std::int64_t v = *node.value<std::int64_t>();
    if (v < 0)
      return Status::InvalidArgument(source_ + ": " + std::string(key) + ": must not be negative");
    // The bound ParseDuration applies to "120s" too; beyond it v * 1000 would overflow.
    if (v > kMaxDurationNumber) {
      return Status::InvalidArgument(source_ + ": " + std::string(key) + ": more than " +
                                     std::to_string(kMaxDurationNumber) + " seconds");
    }
    return Millis(v * 1000);
  }
  if (!node.is_string()) return WrongType(*this, key, "a duration such as \"120s\" or \"5m\"");
  auto d = ParseDuration(*node.value<std::string>());
  if (!d.ok()) return d.status().WithContext(source_ + ": " + std::string(key));
  return d;
}

Result<LocalTime> Config::TimeOfDay(std::string_view key, LocalTime def) const {
  auto node = table_.at_path(key);
  if (!node) return def;
  if (!node.is_string()) return WrongType(*this, key, "a time of day such as \"16:30\"");
  auto t = LocalTime::Parse(*node.value<std::string>());
  if (!t.ok()) return t.status().WithContext(source_ + ": " + std::string(key));
  return t;
}

Result<fs::path> Config::Path(std::string_view key, fs::path def) const {
  auto s = String(key, def.string());
  if (!s.ok()) return s.status();
  fs::path p(*s);
  if (p.empty() || p.is_absolute()) return p;
  return dir_ / p;
}

Status Config::RejectUnknownKeys(std::initializer_list<std::string_view> known) const {
  return RejectUnknownKeys(std::span<const std::string_view>(known.begin(), known.size()));
}

Status Config::RejectUnknownKeys(std::span<const std::string_view> known) const {
  std::vector<std::string> unknown = UnknownKeyProblems(known);
  if (!unknown.empty()) return Status::InvalidArgument(source_ + ": " + unknown.front());
  return Status::Ok();
}

std::vector<std::string> Config::UnknownKeyProblems(std::span<const std::string_view> known) const {
  std::vector<std::string> out;
  for (const std::string& key : UnknownKeys(known)) {
    std::string message = "unknown key \"" + key + "\"";
    if (std::string near = NearestKey(key, known); !near.empty()) {
      message += " (did you mean \"" + near + "\"?)";
    }
    out.push_back(std::move(message));
  }
  return out;
}

std::string NearestKey(std::string_view unknown, std::span<const std::string_view> known) {
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diag = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diag = up;
      }
    }
    return row[b.size()];
  };
  std::string best;
  std::size_t best_distance = 4;  // at most 3 edits
  for (std::string_view k : known) {
    std::size_t d = distance(unknown, k);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(k);
    }
  }
  return best;
}

std::vector<std::string> Config::UnknownKeys(std::span<const std::string_view> known) const {
  std::vector<std::string> unknown;
  auto walk = [&](auto&& self, const toml::table& t, const std::string& prefix) -> void {
    for (auto&& [k, v] : t) {
      std::string full =
          prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
      if (auto* sub = v.as_table()) {
        bool table_known = false;
        for (auto kk : known) {
          if (kk == full || kk.starts_with(full + ".")) table_known = true;
        }
        if (!table_known) unknown.push_back(full);
        if (table_known) self(self, *sub, full);
        continue;
      }
      bool ok = false;
      for (auto kk : known)
        ok = ok || kk == full ||
             (kk.ends_with(".*") && full.starts_with(kk.substr(0, kk.size() - 1)));
      if (!ok) unknown.push_back(full);
    }
  };
  walk(walk, table_, "");
  return unknown;
}

}  // namespace anshin::sys

#include "reader-agent/simulated_card_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "common/sys/sys.hpp"

namespace anshin::agent {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

Result<std::optional<ScriptedTap>> ParseTapLine(std::string_view line, std::string_view where) {
  if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
  std::vector<std::string_view> fields;
  for (line = Trim(line); !line.empty(); line = Trim(line)) {
    auto end = line.find_first_of(" \t");
    fields.push_back(line.substr(0, end));
    line = end == std::string_view::npos ? std::string_view() : line.substr(end);
  }
  if (fields.empty()) return std::optional<ScriptedTap>();
  if (fields.size() < 2 || fields.size() > 3) {
    return Status::InvalidArgument(std::string(where) +
                                   ": expected \"<delay_ms> <idm-hex> [<present_ms>]\"");
  }
  auto millis = [&](std::string_view text, std::string_view name) -> Result<Millis> {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < 0) {
      return Status::InvalidArgument(std::string(where) + ": " + std::string(name) + " \"" +
                                     std::string(text) +
                                     "\" is not a non-negative number of milliseconds");
    }
    return Millis(v);
  };
  ScriptedTap tap;
  ANSHIN_ASSIGN_OR_RETURN(tap.delay, millis(fields[0], "delay"));
  auto idm = Idm::Parse(fields[1]);
  if (!idm.ok()) {
    return Status::InvalidArgument(std::string(where) + ": " + idm.status().message());
  }
  tap.idm = *idm;
  if (fields.size() == 3) {
    ANSHIN_ASSIGN_OR_RETURN(tap.present_for, millis(fields[2], "present_ms"));
  }
  return std::optional<ScriptedTap>(tap);
}

Result<std::vector<ScriptedTap>> ParseTapScript(std::string_view text) {
  std::vector<ScriptedTap> taps;
  int line_no = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    ANSHIN_ASSIGN_OR_RETURN(auto tap, ParseTapLine(line, "line " + std::to_string(line_no)));
    if (tap) taps.push_back(*tap);
  }
  return taps;
}

SimulatedCardReader::SimulatedCardReader(Source source, std::filesystem::path path,
                                         const Clock& clock, Millis present_for)
    : source_(source), path_(std::move(path)), clock_(clock), present_for_(present_for) {}

SimulatedCardReader::~SimulatedCardReader() { Close(); }

std::string SimulatedCardReader::Describe() const {
  return (source_ == Source::kScript ? "simulated:" : "simulated-fifo:") + path_.string();
}

Status SimulatedCardReader::Open() {
  Close();
  TimePoint now = clock_.Now();
  last_removed_at_ = now;
  if (source_ == Source::kScript) {
    ANSHIN_ASSIGN_OR_RETURN(std::string text, sys::ReadFile(path_));
    auto taps = ParseTapScript(text);
    if (!taps.ok()) return taps.status().WithContext(path_.string());
    for (const auto& tap : *taps) pending_.push_back({tap, now});
  } else {
    fifo_fd_ = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fifo_fd_ < 0) {
      return Status::Unavailable(path_.string() + ": " + std::strerror(errno));
    }
  }
  open_ = true;
  return Status::Ok();
}

void SimulatedCardReader::Close() {
  if (fifo_fd_ >= 0) ::close(fifo_fd_);
  fifo_fd_ = -1;
  open_ = false;
  partial_line_.clear();
  pending_.clear();
  presented_.reset();
  polls_presented_ = 0;
}

Status SimulatedCardReader::ReadFifo() {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fifo_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) return Status::Unavailable(path_.string() + ": " + std::strerror(errno));
    if (n == 0) break;  // no writer at the moment; later writers reconnect to the same FIFO
    partial_line_.append(buf, static_cast<std::size_t>(n));
  }
  TimePoint now = clock_.Now();
  for (auto nl = partial_line_.find('\n'); nl != std::string::npos; nl = partial_line_.find('\n')) {
    std::string line = partial_line_.substr(0, nl);
    partial_line_.erase(0, nl + 1);
    ++lines_read_;
    auto tap = ParseTapLine(line, path_.string() + " line " + std::to_string(lines_read_));
    if (!tap.ok()) return tap.status();
    if (*tap) pending_.push_back({**tap, now});
  }
  return Status::Ok();
}

Result<std::optional<Idm>> SimulatedCardReader::Poll() {
  if (!open_) return Status::FailedPrecondition(Describe() + ": not open");
  if (fifo_fd_ >= 0) ANSHIN_RETURN_IF_ERROR(ReadFifo());
  TimePoint now = clock_.Now();
  if (presented_) {
    if (polls_presented_ > 0 && now >= present_until_) {
      presented_.reset();  // removed: this poll sees an empty field
      last_removed_at_ = now;
      return std::optional<Idm>();
    }
    ++polls_presented_;
    return presented_;
  }
  if (!pending_.empty()) {
    const Pending& next = pending_.front();
    TimePoint due = std::max(next.available_at, last_removed_at_) + next.tap.delay;
    if (now >= due) {
      presented_ = next.tap.idm;
      present_until_ = now + next.tap.present_for.value_or(present_for_);
      polls_presented_ = 1;
      pending_.pop_front();
      return presented_;
    }
  }
  return std::optional<Idm>();
}

}  // namespace anshin::agent

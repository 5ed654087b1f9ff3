#include "reader-agent/agent_status.hpp"

#include <signal.h>

#include <fmt/format.h>
#include <cerrno>

namespace anshin::agent {
namespace {

std::string When(const std::optional<std::int64_t>& unix_ms, TimePoint now) {
  if (!unix_ms || *unix_ms == 0) return "never";
  TimePoint t = FromUnixMillis(*unix_ms);
  auto ago = std::chrono::duration_cast<Seconds>(now - t).count();
  return fmt::format("{} ({} s ago)", FormatRfc3339(t), ago);
}

std::string OrDash(const std::optional<std::string>& s) { return s && !s->empty() ? *s : "-"; }

}  // namespace

Result<std::string> FormatStatus(AgentStore& store, TimePoint now) {
  ANSHIN_ASSIGN_OR_RETURN(QueueStats queue, store.Queue());
  ANSHIN_ASSIGN_OR_RETURN(std::uint64_t last_seq, store.LastSeq());
  ANSHIN_ASSIGN_OR_RETURN(auto allowlist, store.LoadAllowlist());
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto v = store.GetText(key);
    return v.ok() ? *v : std::nullopt;
  };
  auto number = [&](const char* key) -> std::optional<std::int64_t> {
    auto v = store.GetInt(key);
    return v.ok() ? *v : std::nullopt;
  };

  std::string out;
  auto line = [&out](std::string_view key, const std::string& value) {
    out += fmt::format("{:<19} {}\n", std::string(key) + ":", value);
  };
  auto pid = number(meta::kAgentPid).value_or(0);
  bool running = pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
  line("agent", running ? fmt::format("running (pid {})", pid) : "not running");
  line("queue_depth", std::to_string(queue.depth));
  line("oldest_unsent", queue.oldest_at ? When(ToUnixMillis(*queue.oldest_at), now) : "-");
  line("last_seq", std::to_string(last_seq));
  line("last_upload_ok", When(number(meta::kLastUploadOkAt), now));
  line("last_contact", When(number(meta::kLastContactAt), now));
  line("last_upload_error", OrDash(text(meta::kLastUploadError)));
  line("rejected_batches", std::to_string(number(meta::kRejectedBatches).value_or(0)));
  line("unknown_taps", std::to_string(number(meta::kUnknownTaps).value_or(0)));
  line("rejected_taps", std::to_string(number(meta::kRejectedTaps).value_or(0)));
  auto rejected = text(meta::kLastRejectedTap);
  line("last_rejected_tap",
       rejected && !rejected->empty()
           ? fmt::format("{} (at {})", *rejected, When(number(meta::kLastRejectedTapAt), now))
           : "-");
  line("allowlist_version",
       allowlist.fetched
           ? fmt::format("{} ({} cards, fetched {})", allowlist.version, allowlist.tokens.size(),
                         When(number(meta::kAllowlistFetchedAt), now))
           : "none (not fetched yet)");
  line("reader_device", OrDash(text(meta::kReaderDevice)));
  line("reader_state", OrDash(text(meta::kReaderState)));
  line("reader_error", OrDash(text(meta::kReaderError)));
  auto last_error = text(meta::kLastError);
  line("last_error",
       last_error && !last_error->empty()
           ? fmt::format("{} (at {})", *last_error, When(number(meta::kLastErrorAt), now))
           : "-");
  return out;
}

}  // namespace anshin::agent

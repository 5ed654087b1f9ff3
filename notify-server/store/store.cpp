#include "notify-server/store/store.hpp"

#include <string>

namespace anshin::store {
namespace {

template <typename E, size_t N>
Result<E> ParseName(std::string_view s, const std::string_view (&names)[N], std::string_view what) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return Status::InvalidArgument(std::string(what) + ": unknown value \"" + std::string(s) + "\"");
}

constexpr std::string_view kAgentStatus[] = {"active", "disabled", "revoked"};
constexpr std::string_view kChildStatus[] = {"enrolled", "withdrawn"};
constexpr std::string_view kCharset[] = {"utf-8", "iso-2022-jp"};
constexpr std::string_view kOutboxKind[] = {"arrival",    "departure",    "inferred_departure",
                                            "correction", "verification", "test"};
constexpr std::string_view kOutboxState[] = {"queued", "sending", "sent", "retrying", "failed"};

}  // namespace

std::string_view AgentStatusName(AgentStatus s) { return kAgentStatus[static_cast<int>(s)]; }
Result<AgentStatus> ParseAgentStatus(std::string_view s) {
  return ParseName<AgentStatus>(s, kAgentStatus, "agent status");
}
std::string_view ChildStatusName(ChildStatus s) { return kChildStatus[static_cast<int>(s)]; }
std::string_view CharsetName(Charset c) { return kCharset[static_cast<int>(c)]; }
Result<Charset> ParseCharset(std::string_view s) {
  return ParseName<Charset>(s, kCharset, "charset");
}
std::string_view OutboxKindName(OutboxKind k) { return kOutboxKind[static_cast<int>(k)]; }
Result<OutboxKind> ParseOutboxKind(std::string_view s) {
  return ParseName<OutboxKind>(s, kOutboxKind, "outbox kind");
}
std::string_view OutboxStateName(OutboxState s) { return kOutboxState[static_cast<int>(s)]; }
Result<OutboxState> ParseOutboxState(std::string_view s) {
  return ParseName<OutboxState>(s, kOutboxState, "outbox state");
}

OutboxKind OutboxKindOf(NoticeKind k) {
  switch (k) {
    case NoticeKind::kArrival:
      return OutboxKind::kArrival;
    case NoticeKind::kDeparture:
      return OutboxKind::kDeparture;
    case NoticeKind::kInferredDeparture:
      return OutboxKind::kInferredDeparture;
    case NoticeKind::kCorrection:
      return OutboxKind::kCorrection;
  }
  return OutboxKind::kDeparture;
}

}  // namespace anshin::store

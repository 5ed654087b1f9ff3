#include "store/records.hpp"

namespace anshin::store {

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

std::optional<NoticeKind> NoticeKindOf(OutboxKind k) {
  switch (k) {
    case OutboxKind::kArrival:
      return NoticeKind::kArrival;
    case OutboxKind::kDeparture:
      return NoticeKind::kDeparture;
    case OutboxKind::kInferredDeparture:
      return NoticeKind::kInferredDeparture;
    case OutboxKind::kCorrection:
      return NoticeKind::kCorrection;
    case OutboxKind::kVerification:
    case OutboxKind::kTest:
    case OutboxKind::kNotArrived:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace anshin::store

#include "reader-agent/uplink.hpp"

#include <nlohmann/json.hpp>

namespace anshin::agent {

bool IsRejection(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kNotFound:
    case Status::Code::kUnauthenticated:
    case Status::Code::kPermissionDenied:
    case Status::Code::kConflict:
    case Status::Code::kTooLarge:
    case Status::Code::kFailedPrecondition:
    case Status::Code::kAlreadyExists:
      return true;
    default:
      return false;
  }
}

Status StatusOfHttp(long http_status, std::string_view what, std::string_view body) {
  // The server's error body {"error": "...", "field": "..."}; shown as it came, bounded.
  std::string detail;
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("error") && json["error"].is_string()) {
    detail = json["error"].get<std::string>();
    if (json.contains("field") && json["field"].is_string() &&
        !json["field"].get<std::string>().empty()) {
      detail = json["field"].get<std::string>() + ": " + detail;
    }
  }
  if (detail.size() > 300) detail.resize(300);
  std::string message = std::string(what) + ": HTTP " + std::to_string(http_status);
  if (!detail.empty()) message += ": " + detail;
  switch (http_status) {
    case 400:
      return Status::InvalidArgument(message);
    case 401:
      return Status::Unauthenticated(message);
    case 403:
      return Status::PermissionDenied(message);
    case 404:
      return Status::NotFound(message);
    case 408:
    case 429:
      return Status::ResourceExhausted(message);
    case 409:
      return Status::Conflict(message);
    case 413:
      return Status::TooLarge(message);
    default:
      break;
  }
  if (http_status >= 400 && http_status < 500) return Status::FailedPrecondition(message);
  return Status::Unavailable(message);
}

}  // namespace anshin::agent

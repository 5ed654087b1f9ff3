#include "notify-server/console/pages.hpp"

#include "notify-server/console/assets.hpp"
#include "services/authz.hpp"

namespace anshin::console {

std::string Render(std::string_view name, const Data& data) {
  std::optional<std::string_view> text = Asset(name);
  kainjow::mustache::mustache tmpl(text ? std::string(*text) : std::string());
  return tmpl.render(data);
}

std::string Page(std::string_view title, const std::string& body_html, const store::Staff* staff,
                 std::string_view csrf) {
  Data d;
  d.set("title", std::string(title));
  d.set("body", body_html);
  if (staff) {
    const services::Principal who{staff->role, staff->facility};
    Data s;
    s.set("name", staff->name);
    s.set("role_label", std::string(RoleInWords(staff->role)));
    s.set("csrf", std::string(csrf));
    s.set("can_search", services::Allowed(who, services::Action::kSearchChildren, staff->facility));
    s.set("can_audit", services::Allowed(who, services::Action::kViewAuditLog, std::nullopt));
    d.set("staff", s);
  }
  return Render("layout.mustache", d);
}

std::string_view RoleInWords(store::StaffRole role) {
  switch (role) {
    case store::StaffRole::kFacility:
      return "施設職員";
    case store::StaffRole::kCallCenter:
      return "コールセンター";
    case store::StaffRole::kOperator:
      return "運用担当";
    case store::StaffRole::kAdmin:
      return "管理者";
    case store::StaffRole::kAuditor:
      return "監査担当";
  }
  return "?";
}

std::string_view CardStatusInWords(CardStatus status) {
  switch (status) {
    case CardStatus::kActive:
      return "使用中";
    case CardStatus::kLost:
      return "紛失";
    case CardStatus::kRetired:
      return "廃止";
  }
  return "?";
}

std::string_view DirectionInWords(Direction direction) {
  switch (direction) {
    case Direction::kAuto:
      return "自動";
    case Direction::kEntry:
      return "入室";
    case Direction::kExit:
      return "退室";
  }
  return "?";
}

std::string_view MailKindInWords(store::OutboxKind kind) {
  switch (kind) {
    case store::OutboxKind::kArrival:
      return "入室のお知らせ";
    case store::OutboxKind::kDeparture:
      return "退室のお知らせ";
    case store::OutboxKind::kInferredDeparture:
      return "退室（推定）のお知らせ";
    case store::OutboxKind::kCorrection:
      return "訂正";
    case store::OutboxKind::kVerification:
      return "アドレス確認";
    case store::OutboxKind::kTest:
      return "テストメール";
  }
  return "?";
}

std::string_view MailStateInWords(store::OutboxState state) {
  switch (state) {
    case store::OutboxState::kQueued:
      return "送信待ち";
    case store::OutboxState::kSending:
      return "送信中";
    case store::OutboxState::kSent:
      return "送信済み";
    case store::OutboxState::kRetrying:
      return "再送待ち";
    case store::OutboxState::kFailed:
      return "送信失敗";
  }
  return "?";
}

}  // namespace anshin::console

#include "notify-server/console/pages.hpp"

#include <algorithm>

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
    s.set("can_alerts",
          services::Allowed(who, services::Action::kAcknowledgeAlert, staff->facility));
    s.set("can_board",
          services::Allowed(who, services::Action::kRecordForgottenTap, staff->facility));
    s.set("can_operations",
          services::Allowed(who, services::Action::kViewOperations, std::nullopt));
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

std::string WeekdaysInJapanese(store::Weekdays days) {
  std::string out;
  for (int i = 1; i <= 7; ++i) {
    if (!days.Has(i % 7)) continue;
    if (!out.empty()) out += "・";
    out += kWeekdayKanji[i % 7];
  }
  return out.empty() ? "未登録" : out;
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
    case store::OutboxKind::kNotArrived:
      return "未到着のお知らせ";
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

std::string_view ReasonInJapanese(Reason r) {
  switch (r) {
    case Reason::kArrival:
      return "入室（通知済み）";
    case Reason::kDeparture:
      return "退室（通知済み）";
    case Reason::kInferredDeparture:
      return "退室（入室のタッチがなく、退室として通知）";
    case Reason::kCorrection:
      return "退室（前のタッチを退室と訂正して通知）";
    case Reason::kBackfilledArrival:
      return "入室（遅れて届き、遅延として通知）";
    case Reason::kDuplicate:
      return "二度押し（通知なし）";
    case Reason::kOutOfOrder:
      return "判定済みのタッチより古い（通知なし）";
    case Reason::kUnknownCard:
      return "登録されていないカード（通知なし）";
    case Reason::kLostCard:
      return "紛失届のカード（通知なし・職員に警報）";
    case Reason::kRetiredCard:
      return "使用停止のカード（通知なし）";
    case Reason::kImpossibleTime:
      return "ありえない時刻（施設PCの時計）のため保留（通知なし）";
  }
  return "?";
}

std::string HourChartSvg(const std::array<int, 24>& arrivals,
                         const std::array<int, 24>& departures) {
  constexpr int kFirst = 7, kLast = 21;  // hours shown; earlier/later fold into the ends
  std::array<int, kLast - kFirst + 1> in{}, out{};
  for (int h = 0; h < 24; ++h) {
    const int slot = std::clamp(h, kFirst, kLast) - kFirst;
    in[static_cast<std::size_t>(slot)] += arrivals[static_cast<std::size_t>(h)];
    out[static_cast<std::size_t>(slot)] += departures[static_cast<std::size_t>(h)];
  }
  int top = 1;
  for (std::size_t i = 0; i < in.size(); ++i) top = std::max({top, in[i], out[i]});
  constexpr int kSlotW = 40, kBarW = 16, kPlotH = 160, kLeft = 30, kBottom = 190;
  const int width = kLeft + static_cast<int>(in.size()) * kSlotW + 10;
  std::string svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" width=\"" +
      std::to_string(width) + "\" height=\"230\" viewBox=\"0 0 " + std::to_string(width) +
      " 230\" aria-label=\"今日の時間帯別の入室と退室\">";
  svg += "<title>今日の時間帯別の入室（青）と退室（橙）</title>";
  svg += "<line x1=\"" + std::to_string(kLeft) + "\" y1=\"" + std::to_string(kBottom) + "\" x2=\"" +
         std::to_string(width - 5) + "\" y2=\"" + std::to_string(kBottom) + "\" stroke=\"#555\"/>";
  svg += "<text x=\"2\" y=\"" + std::to_string(kBottom - kPlotH + 4) +
         "\" font-size=\"11\" fill=\"#333\">" + std::to_string(top) + "</text>";
  auto bar = [&](int x, int n, const char* color, const char* label, int hour) {
    const int h = n * kPlotH / top;
    svg += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(kBottom - h) +
           "\" width=\"" + std::to_string(kBarW) + "\" height=\"" + std::to_string(h) +
           "\" fill=\"" + color + "\"><title>" + std::to_string(hour) + "時台 " + label + " " +
           std::to_string(n) + "人</title></rect>";
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    const int x = kLeft + static_cast<int>(i) * kSlotW + 4;
    const int hour = kFirst + static_cast<int>(i);
    bar(x, in[i], "#2b6cb0", "入室", hour);
    bar(x + kBarW, out[i], "#dd6b20", "退室", hour);
    svg += "<text x=\"" + std::to_string(x + 4) + "\" y=\"" + std::to_string(kBottom + 16) +
           "\" font-size=\"11\" fill=\"#333\">" + std::to_string(hour) + "</text>";
  }
  svg += "</svg>";
  return svg;
}

}  // namespace anshin::console

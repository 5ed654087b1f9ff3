#include "notify-server/mail/staff_alert_mailer.hpp"

#include <spdlog/spdlog.h>

#include <map>

#include "common/mail/mime.hpp"
#include "common/mail/templates.hpp"
#include "common/sys/logging.hpp"
#include "services/inquiries.hpp"

namespace anshin::server::mail {
namespace {

constexpr int kBatch = 50;

// Facility-bound kinds go to that facility's own staff.
bool FacilityStaffKind(AlertKind kind) {
  switch (kind) {
    case AlertKind::kLostCardSeen:
    case AlertKind::kNoDeparture:
    case AlertKind::kNotArrived:
    case AlertKind::kAgentSilent:
    case AlertKind::kReaderError:
    case AlertKind::kClockSkew:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool ReceivesAlert(store::StaffRole role, AlertKind kind) {
  using store::StaffRole;
  switch (role) {
    case StaffRole::kFacility:
      return FacilityStaffKind(kind);
    case StaffRole::kCallCenter:
      return kind == AlertKind::kLostCardSeen || kind == AlertKind::kNoDeparture ||
             kind == AlertKind::kNotArrived || kind == AlertKind::kAddressBouncing ||
             kind == AlertKind::kMailFailing;
    case StaffRole::kOperator:
      return kind == AlertKind::kAgentSilent || kind == AlertKind::kReaderError ||
             kind == AlertKind::kClockSkew || kind == AlertKind::kMailFailing ||
             kind == AlertKind::kUnusualAccess;
    case StaffRole::kAdmin:
    case StaffRole::kAuditor:
      return kind == AlertKind::kUnusualAccess;
  }
  return false;
}

StaffAlertText ComposeStaffAlert(const store::AlertRecord& alert, std::string_view facility_name,
                                 const TimeZone& zone, std::string_view console_url) {
  const std::string where = facility_name.empty() ? std::string() : std::string(facility_name);
  StaffAlertText t;
  t.subject = "【警報 " + std::to_string(alert.id) + "】" +
              std::string(services::AlertKindInWords(alert.kind));
  if (!where.empty()) t.subject += "（" + where + "）";
  t.body = std::string(services::AlertKindInWords(alert.kind)) + "。\n\n";
  t.body += "警報番号: " + std::to_string(alert.id) + "\n";
  t.body += "種類: " + std::string(AlertKindName(alert.kind)) + "\n";
  if (!where.empty()) t.body += "施設: " + where + "\n";
  t.body += "日時: " + anshin::mail::FormatMailDate(alert.at, zone) + " " +
            anshin::mail::FormatMailTime(alert.at, zone) + "\n";
  if (alert.child) t.body += "児童番号(ID): " + alert.child->ToString() + "\n";
  if (!alert.detail.empty()) t.body += "詳細: " + alert.detail + "\n";
  t.body += "\n";
  if (!console_url.empty()) {
    t.body += "確認と対応の記録は職員コンソールで、この警報番号について行ってください:\n" +
              std::string(console_url) + "/\n";
  } else {
    t.body +=
        "確認と対応の記録は職員コンソールの「警報」で、この警報番号を開いて行ってください。\n";
  }
  t.body +=
      "\nこのメールは送信専用です。児童の氏名や保護者の連絡先はコンソールで確認してください。\n";
  return t;
}

Result<int> StaffAlertMailer::Run(TimePoint now) {
  struct Pending {
    store::AlertRecord alert;
    std::vector<std::size_t> mails;  // indexes into `mails`
  };
  std::vector<Pending> pending;
  std::vector<OutgoingMail> mails;
  ANSHIN_RETURN_IF_ERROR(store::InRead(store_, [&](store::ReadTxn& txn) -> Status {
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::AlertRecord> alerts, txn.alerts().Unmailed(kBatch));
    if (alerts.empty()) return Status::Ok();
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Staff> staff, txn.staff().List());
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Facility> facilities, txn.facilities().List());
    std::map<FacilityId, const store::Facility*> by_id;
    for (const store::Facility& f : facilities) by_id[f.id] = &f;
    for (store::AlertRecord& a : alerts) {
      const store::Facility* f =
          a.facility && by_id.count(*a.facility) ? by_id[*a.facility] : nullptr;
      ANSHIN_ASSIGN_OR_RETURN(auto zone, zones_(f ? f->tz_name : std::string("Asia/Tokyo")));
      const StaffAlertText text = ComposeStaffAlert(
          a, f ? std::string_view(f->name) : std::string_view(), *zone, options_.console_url);
      Pending p{a, {}};
      for (const store::Staff& s : staff) {
        if (s.status != store::StaffStatus::kActive || s.email.empty()) continue;
        if (!ReceivesAlert(s.role, a.kind)) continue;
        if (s.role == store::StaffRole::kFacility && s.facility != a.facility) continue;
        anshin::mail::MailMessage m;
        m.from_address = options_.from;
        m.from_name = options_.from_name;
        m.to = s.email;
        m.subject = text.subject;
        m.body = text.body;
        m.date = now;
        ANSHIN_ASSIGN_OR_RETURN(m.message_id,
                                anshin::mail::MakeMessageId(
                                    "alert." + std::to_string(a.id) + ".staff." + s.id.ToString(),
                                    options_.message_id_domain));
        ANSHIN_ASSIGN_OR_RETURN(std::string data, anshin::mail::RenderMessage(m, *zone));
        p.mails.push_back(mails.size());
        mails.push_back(OutgoingMail{a.id, options_.from, s.email, std::move(data)});
      }
      pending.push_back(std::move(p));
    }
    return Status::Ok();
  }));
  if (pending.empty()) return 0;
  std::vector<SendOutcome> outcomes;
  if (!mails.empty()) outcomes = transport_.Send(mails, {});
  int sent = 0;
  std::vector<std::int64_t> done;
  for (const Pending& p : pending) {
    bool all_temporary = !p.mails.empty();
    for (std::size_t i : p.mails) {
      const SendOutcome& o = outcomes[i];
      if (o.kind == SendOutcome::Kind::kSent) ++sent;
      if (o.kind != SendOutcome::Kind::kTemporary) all_temporary = false;
      sys::LogEvent(o.kind == SendOutcome::Kind::kSent ? spdlog::level::info : spdlog::level::warn,
                    "staff_alert_mail",
                    {{"alert", p.alert.id},
                     {"kind", AlertKindName(p.alert.kind)},
                     {"result", o.kind == SendOutcome::Kind::kSent        ? "sent"
                                : o.kind == SendOutcome::Kind::kTemporary ? "retry"
                                                                          : "refused"},
                     {"code", o.smtp_code}});
    }
    if (!all_temporary) done.push_back(p.alert.id);
  }
  ANSHIN_RETURN_IF_ERROR(store::InWrite(store_, [&](store::WriteTxn& txn) -> Status {
    for (std::int64_t id : done) ANSHIN_RETURN_IF_ERROR(txn.alerts().MarkMailed(id, now));
    return Status::Ok();
  }));
  return sent;
}

}  // namespace anshin::server::mail

#include "services/inquiries.hpp"

#include <algorithm>

#include "services/audit_log.hpp"

namespace anshin::services {
namespace {

// " reason=…" for the audit detail, nothing when no reason was given.
std::string ReasonPart(std::string_view reason) {
  if (reason.empty()) return "";
  return " reason=" + std::string(reason);
}

std::string DatePart(const std::optional<LocalDate>& date) {
  return date ? " date=" + date->ToString() : "";
}

// Shown guardians of a child, masked unless reveal.
std::vector<ShownGuardian> Show(std::vector<store::Guardian> guardians, bool reveal) {
  std::vector<ShownGuardian> out;
  out.reserve(guardians.size());
  for (auto& g : guardians) {
    if (!reveal) g.email = MaskEmail(g.email);
    out.push_back(ShownGuardian{std::move(g), reveal});
  }
  return out;
}

// Runs `fn(txn)` and appends the audit row in the same write transaction, so a view that could
// not be audited is not shown.
template <typename Fn>
auto Audited(store::Store& store, const store::Actor& who, std::string_view action,
             std::string detail, Fn&& fn) -> decltype(fn(std::declval<store::WriteTxn&>())) {
  return store::InWrite(store, [&](store::WriteTxn& txn) -> decltype(fn(txn)) {
    auto result = fn(txn);
    if (!result.ok()) return result;
    ANSHIN_RETURN_IF_ERROR(AppendAudit(txn, who, action, detail));
    return result;
  });
}

}  // namespace

std::string_view AlertKindInWords(AlertKind kind) {
  switch (kind) {
    case AlertKind::kLostCardSeen:
      return "紛失届のカードがタッチされました";
    case AlertKind::kNoDeparture:
      return "閉所後も退室の記録がありません";
    case AlertKind::kNotArrived:
      return "来所予定の児童が予定時刻までに到着していません";
    case AlertKind::kAgentSilent:
      return "施設のパソコンから連絡がありません";
    case AlertKind::kReaderError:
      return "カードリーダーが故障しています";
    case AlertKind::kMailFailing:
      return "通知メールが送信できていません";
    case AlertKind::kAddressBouncing:
      return "保護者のメールアドレスに届きません";
    case AlertKind::kUnusualAccess:
      return "職員アカウントが多数の児童記録を閲覧しました";
    case AlertKind::kClockSkew:
      return "施設のパソコンの時計がずれています";
  }
  return "警報";
}

std::string_view ReasonInWords(Reason r) {
  switch (r) {
    case Reason::kArrival:
      return "arrival, mailed";
    case Reason::kDeparture:
      return "departure, mailed";
    case Reason::kInferredDeparture:
      return "departure (the arrival tap was missing), mailed";
    case Reason::kCorrection:
      return "departure after a tap taken for a departure: correction mailed";
    case Reason::kBackfilledArrival:
      return "arrival received late, mailed as late";
    case Reason::kDuplicate:
      return "double tap, no mail";
    case Reason::kOutOfOrder:
      return "older than taps already judged, no mail";
    case Reason::kUnknownCard:
      return "card not registered, no mail";
    case Reason::kLostCard:
      return "card reported lost: no mail, staff alerted";
    case Reason::kRetiredCard:
      return "card retired, no mail";
    case Reason::kImpossibleTime:
      return "time cannot be true (agent clock), set aside, no mail";
  }
  return "?";
}

std::string MaskEmail(std::string_view email) {
  auto at = email.rfind('@');
  if (at == std::string_view::npos) return "***";
  std::string_view local = email.substr(0, at), domain = email.substr(at + 1);
  std::size_t keep = local.size() > 2 ? 2 : (local.empty() ? 0 : 1);
  for (std::size_t i = 0; i < keep; ++i) {
    if (static_cast<unsigned char>(local[i]) >= 0x80) keep = i;  // never split a character
  }
  std::string out(local.substr(0, keep));
  out += "***@";
  if (!domain.empty() && static_cast<unsigned char>(domain[0]) < 0x80) out += domain[0];
  out += "***";
  auto dot = domain.rfind('.');
  if (dot != std::string_view::npos && dot > 0) out += domain.substr(dot);
  return out;
}

Result<std::vector<store::Child>> Inquiries::FindChildren(const store::ChildQuery& query,
                                                          const store::Actor& who) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<std::vector<store::Child>> {
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Child> found, txn.children().Find(query));
    std::string detail = "results=" + std::to_string(found.size());
    if (query.facility) detail += " facility=" + query.facility->ToString();
    ANSHIN_RETURN_IF_ERROR(AppendAudit(txn, who, "child.search", detail));
    return found;
  });
}

Result<store::Facility> Inquiries::FacilityByCode(std::string_view code) {
  return store::InRead(store_, [&](store::ReadTxn& txn) -> Result<store::Facility> {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Facility> f, txn.facilities().FindByCode(code));
    if (!f) return Status::NotFound("no facility with code " + std::string(code));
    return *f;
  });
}

Result<std::vector<store::Facility>> Inquiries::Facilities() {
  return store::InRead(store_, [](store::ReadTxn& txn) { return txn.facilities().List(); });
}

Result<ChildRecord> Inquiries::ShowChild(ChildId child, const store::Actor& who,
                                         std::string_view reason) {
  return Audited(store_, who, "child.view", "child=" + child.ToString() + ReasonPart(reason),
                 [&](store::WriteTxn& txn) -> Result<ChildRecord> {
                   ChildRecord r;
                   ANSHIN_ASSIGN_OR_RETURN(r.child, txn.children().Get(child));
                   ANSHIN_ASSIGN_OR_RETURN(r.facility, txn.facilities().Get(r.child.facility));
                   ANSHIN_ASSIGN_OR_RETURN(auto guardians, txn.guardians().OfChild(child));
                   r.guardians = Show(std::move(guardians), false);
                   ANSHIN_ASSIGN_OR_RETURN(r.cards, txn.cards().OfChild(child));
                   return r;
                 });
}

Result<std::vector<ShownGuardian>> Inquiries::Guardians(ChildId child, bool reveal,
                                                        const store::Actor& who,
                                                        std::string_view reason) {
  if (reveal && reason.empty()) {
    return Status::InvalidArgument("revealing addresses needs a reason (--reason)");
  }
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<std::vector<ShownGuardian>> {
    ANSHIN_RETURN_IF_ERROR(txn.children().Get(child).status());
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Guardian> guardians, txn.guardians().OfChild(child));
    std::string detail = "child=" + child.ToString();
    if (reveal) {
      detail += " guardians=";
      for (std::size_t i = 0; i < guardians.size(); ++i) {
        detail += (i ? "," : "") + guardians[i].id.ToString();
      }
    }
    ANSHIN_RETURN_IF_ERROR(AppendAudit(txn, who, reveal ? "guardian.reveal" : "guardian.list",
                                       detail + ReasonPart(reason)));
    return Show(std::move(guardians), reveal);
  });
}

Result<std::vector<store::TapRecord>> Inquiries::Taps(ChildId child, std::optional<LocalDate> date,
                                                      const store::Actor& who,
                                                      std::string_view reason) {
  DayWindow window{TimePoint::min(), TimePoint::max()};
  if (date) {
    ANSHIN_ASSIGN_OR_RETURN(store::Child c, store::InRead(store_, [&](store::ReadTxn& txn) {
                              return txn.children().Get(child);
                            }));
    ANSHIN_ASSIGN_OR_RETURN(store::Facility f, store::InRead(store_, [&](store::ReadTxn& txn) {
                              return txn.facilities().Get(c.facility);
                            }));
    ANSHIN_ASSIGN_OR_RETURN(window, DayOf(f, *date));
  }
  return Audited(store_, who, "tap.list",
                 "child=" + child.ToString() + DatePart(date) + ReasonPart(reason),
                 [&](store::WriteTxn& txn) -> Result<std::vector<store::TapRecord>> {
                   ANSHIN_RETURN_IF_ERROR(txn.children().Get(child).status());
                   return txn.attendance().TapsOfChild(child, window.from, window.to);
                 });
}

Result<std::vector<MailRecord>> Inquiries::Mails(ChildId child, std::optional<LocalDate> date,
                                                 const store::Actor& who, std::string_view reason) {
  std::shared_ptr<const TimeZone> zone;
  if (date) {
    ANSHIN_ASSIGN_OR_RETURN(
        store::Facility f,
        store::InRead(store_, [&](store::ReadTxn& txn) -> Result<store::Facility> {
          ANSHIN_ASSIGN_OR_RETURN(store::Child c, txn.children().Get(child));
          return txn.facilities().Get(c.facility);
        }));
    ANSHIN_ASSIGN_OR_RETURN(zone, ZoneOf(f));
  }
  return Audited(
      store_, who, "mail.list", "child=" + child.ToString() + DatePart(date) + ReasonPart(reason),
      [&](store::WriteTxn& txn) -> Result<std::vector<MailRecord>> {
        ANSHIN_RETURN_IF_ERROR(txn.children().Get(child).status());
        ANSHIN_ASSIGN_OR_RETURN(std::vector<store::OutboxRow> rows, txn.outbox().List(child));
        std::vector<MailRecord> out;
        for (auto& row : rows) {
          if (date && zone->DateOf(row.message.created_at) != *date) continue;
          ANSHIN_ASSIGN_OR_RETURN(auto attempts, txn.outbox().SendLog(row.id));
          out.push_back(MailRecord{std::move(row), std::move(attempts)});
        }
        return out;
      });
}

Result<std::vector<store::AlertRecord>> Inquiries::Alerts(bool open_only,
                                                          std::optional<FacilityId> facility) {
  ANSHIN_ASSIGN_OR_RETURN(
      std::vector<store::AlertRecord> alerts,
      store::InRead(store_, [&](store::ReadTxn& txn) { return txn.alerts().List(open_only); }));
  if (facility) {
    std::erase_if(alerts, [&](const store::AlertRecord& a) { return a.facility != *facility; });
  }
  return alerts;
}

Result<store::AlertRecord> Inquiries::AcknowledgeAlert(std::int64_t id, std::string_view note,
                                                       const store::Actor& who) {
  if (note.empty()) return Status::InvalidArgument("say what was done (--note)");
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<store::AlertRecord> {
    ANSHIN_RETURN_IF_ERROR(txn.alerts().Acknowledge(id, who, note));
    ANSHIN_RETURN_IF_ERROR(AppendAudit(txn, who, "alert.ack", "alert=" + std::to_string(id)));
    return txn.alerts().Get(id);
  });
}

Result<std::vector<store::AuditEntry>> Inquiries::AuditLog(std::optional<TimePoint> since) {
  ANSHIN_ASSIGN_OR_RETURN(
      std::vector<store::AuditEntry> entries,
      store::InRead(store_, [](store::ReadTxn& txn) { return txn.audit().List(); }));
  if (since) std::erase_if(entries, [&](const store::AuditEntry& e) { return e.at < *since; });
  return entries;
}

Result<DayExplanation> Inquiries::Explain(ChildId child, const LocalDate& date,
                                          const store::Actor& who, std::string_view reason) {
  return Audited(store_, who, "child.explain",
                 "child=" + child.ToString() + " date=" + date.ToString() + ReasonPart(reason),
                 [&](store::WriteTxn& txn) { return ExplainDay(txn, zones_, child, date); });
}

Result<DayWindow> Inquiries::DayOf(const store::Facility& facility, const LocalDate& date) {
  ANSHIN_ASSIGN_OR_RETURN(std::shared_ptr<const TimeZone> zone, ZoneOf(facility));
  // The next calendar day: the date of an instant safely inside it.
  LocalDate next = zone->DateOf(zone->At(date, LocalTime::HM(12, 0)) + std::chrono::hours(24));
  return DayWindow{zone->At(date, LocalTime{0}), zone->At(next, LocalTime{0})};
}

Result<std::shared_ptr<const TimeZone>> Inquiries::ZoneOf(const store::Facility& facility) {
  return zones_(facility.tz_name);
}

}  // namespace anshin::services

#include "notify-server/ingest/apply_tap.hpp"

#include <spdlog/spdlog.h>

#include "common/sys/logging.hpp"
#include "services/cards.hpp"

namespace anshin::ingest {

store::TapRecord TapRecordAsSent(const TapContext& ctx, const wire::Tap& tap) {
  store::TapRecord rec;
  rec.agent = ctx.agent;
  rec.seq = tap.seq;
  rec.card = tap.card;
  rec.facility = ctx.facility;
  rec.reader = tap.reader;
  rec.direction = tap.direction;
  rec.tapped_at = tap.at;
  rec.corrected_at = tap.at;
  rec.received_at = ctx.received_at;
  rec.recorded_by = ctx.recorded_by;
  rec.note = ctx.note;
  return rec;
}

Result<AppliedTap> ApplyTap(store::WriteTxn& txn, const TapContext& ctx, const wire::Tap& tap) {
  TapEvent ev;
  ev.card = tap.card;
  ev.facility = ctx.facility;
  ev.reader = tap.reader;
  ev.direction = tap.direction;
  ev.tapped_at = tap.at;
  ev.agent_skew = ctx.skew;
  ev.received_at = ctx.received_at;

  const FacilityRules& rules = *ctx.rules;
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Card> card, txn.cards().Find(tap.card));
  std::optional<CardInfo> info;
  ChildSchedule schedule;
  ChildDay day;
  day.date = JudgedDay(rules, ev);
  if (card) {
    // Judged by the status the card had when it was tapped: a tap queued offline before the
    // card was reported lost (or replaced) is the child's tap, mailed as usual.
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::CardStatusChange> history,
                            txn.cards().StatusHistory(card->token));
    info =
        CardInfo{card->child, services::CardStatusAt(history, CorrectedTapTime(ev), card->status)};
    ANSHIN_ASSIGN_OR_RETURN(schedule, txn.children().Schedule(card->child));
    ANSHIN_ASSIGN_OR_RETURN(day,
                            txn.attendance().LoadChildDay(card->child, ctx.facility, day.date));
  }
  Judgement j = Judge(rules, ev, info, schedule, day);
  const Decision& d = j.decision;

  store::TapRecord rec = TapRecordAsSent(ctx, tap);
  rec.corrected_at = d.tap_time;
  rec.reason = d.reason;
  rec.child = card ? std::optional<ChildId>(card->child) : std::nullopt;
  rec.late = d.late;
  ANSHIN_RETURN_IF_ERROR(txn.attendance().InsertTap(rec));

  AppliedTap out;
  out.reason = d.reason;
  out.child = rec.child;
  if (card && !(j.day == day)) {
    ANSHIN_RETURN_IF_ERROR(txn.attendance().SaveChildDay(card->child, ctx.facility, j.day));
  }
  for (const Alert& a : d.alerts) {
    store::AlertRecord ar;
    ar.kind = a.kind;
    ar.facility = a.facility;
    ar.child = a.child;
    ar.at = a.at;
    // IDs and tokens only, never names.
    ar.detail = ctx.source + " seq=" + std::to_string(tap.seq) + " token=" + tap.card.hex();
    ANSHIN_RETURN_IF_ERROR(txn.alerts().Insert(ar).status());
    ++out.alerts;
    sys::LogEvent(spdlog::level::warn, "alert",
                  {{"kind", AlertKindName(a.kind)},
                   {"facility", a.facility.value},
                   {"child", a.child ? a.child->ToString() : std::string("-")},
                   {"source", ctx.source},
                   {"seq", tap.seq},
                   {"card", services::TokenPrefix(tap.card)}});
  }
  if (d.notice) {
    const Notice& n = *d.notice;
    ANSHIN_ASSIGN_OR_RETURN(std::vector<GuardianId> targets,
                            txn.guardians().NoticeTargets(n.child, n.kind));
    for (GuardianId g : targets) {
      store::OutboxMessage m;
      m.kind = store::OutboxKindOf(n.kind);
      m.guardian = g;
      m.child = n.child;
      m.facility = n.facility;
      m.tap_at = n.at;
      m.arrival_at = n.arrival_at;
      m.late = n.late;
      m.created_at = ctx.received_at;
      m.staff_recorded = !ctx.recorded_by.empty();
      ANSHIN_RETURN_IF_ERROR(txn.outbox().Insert(m).status());
      ++out.outbox_rows;
    }
  }
  // IDs and a token prefix only: never a name (docs/operations.md, "Logs").
  sys::LogEvent(spdlog::level::debug, "tap",
                {{"source", ctx.source},
                 {"seq", tap.seq},
                 {"card", services::TokenPrefix(tap.card)},
                 {"decision", ReasonName(d.reason)},
                 {"child", rec.child ? rec.child->ToString() : std::string("-")},
                 {"late", d.late},
                 {"mails", out.outbox_rows}});
  return out;
}

}  // namespace anshin::ingest

// A forgotten tap recorded by staff on the facility board (docs/console.md, "Facility board"):
// the child's arrival or departure at a time staff give, with their reason. It goes through the
// same engine and store writes as a card's tap (ingest::ApplyTap), under the facility's own
// "console" uploader (agents.kind = 'console', numbered like a PC's taps, never connecting),
// stored with the staff account and the reason (taps.recorded_by, taps.note); the guardian's
// mail says staff recorded it. One write transaction: the tap, its decision, the day, the mail
// and the audit entry land together or not at all.
#include <spdlog/spdlog.h>

#include "notify-server/console/console.hpp"
#include "notify-server/console/form.hpp"
#include "notify-server/console/pages.hpp"
#include "notify-server/ingest/apply_tap.hpp"
#include "services/audit_log.hpp"
#include "services/authz.hpp"

namespace anshin::console {
namespace {

namespace http = server::http;
using services::Action;
using services::StaffContext;

constexpr std::size_t kMaxNote = 500;

}  // namespace

Response Console::PostBoardTap(const Request& req, const StaffContext& ctx) {
  auto form = CheckedForm(req, ctx);
  if (!form) return Forbidden(req, ctx);
  const std::string back = "/board";
  std::optional<std::int64_t> child_id = PositiveInt((*form)["child"]);
  if (!child_id) return Refused(req, ctx, Status::InvalidArgument("児童を選んでください"), back);
  auto child = store::InRead(
      store_, [&](store::ReadTxn& t) { return t.children().Get(ChildId{*child_id}); });
  if (!child.ok()) return Refused(req, ctx, child.status(), back);
  if (!services::Allowed({ctx.staff.role, ctx.staff.facility}, Action::kRecordForgottenTap,
                         child->facility)) {
    return Denied(req, ctx,
                  "action=record-forgotten-tap child=" + child->id.ToString() +
                      " facility=" + child->facility.ToString());
  }
  const std::string& direction_word = (*form)["direction"];
  Direction direction = Direction::kAuto;
  if (direction_word == "arrival") direction = Direction::kEntry;
  if (direction_word == "departure") direction = Direction::kExit;
  const std::string note = (*form)["note"];
  Status invalid = Status::Ok();
  if (direction == Direction::kAuto)
    invalid = Status::InvalidArgument("入室か退室かを選んでください");
  if (note.empty() || note.size() > kMaxNote)
    invalid = Status::InvalidArgument("理由を書いてください（500字まで）");
  auto time = LocalTime::Parse((*form)["time"]);
  if (!time.ok()) invalid = Status::InvalidArgument("時刻を 16:30 のように入力してください");
  if (!invalid.ok()) return Refused(req, ctx, invalid, back);

  auto facility =
      store::InRead(store_, [&](store::ReadTxn& t) { return t.facilities().Get(child->facility); });
  if (!facility.ok()) return Failed(req, &ctx, facility.status());
  auto zone = inquiries_.ZoneOf(*facility);
  if (!zone.ok()) return Failed(req, &ctx, zone.status());
  const store::Actor who = Who(ctx);
  const LocalDate today = (*zone)->DateOf(who.at);
  const TimePoint at = (*zone)->At(today, *time);
  if (at > who.at) {
    return Refused(req, ctx, Status::InvalidArgument("これからの時刻は記録できません"), back);
  }
  FacilityRules rules = facility->rules;
  rules.zone = *zone;

  Result<ingest::AppliedTap> applied =
      store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<ingest::AppliedTap> {
        ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Card> card, txn.cards().ActiveOf(child->id));
        if (!card) {
          return Status::FailedPrecondition(
              "この児童には使用中のカードがありません（カードを登録してから記録してください）");
        }
        ANSHIN_ASSIGN_OR_RETURN(AgentId uploader,
                                txn.agents().ConsoleUploader(facility->id, who.at));
        ANSHIN_ASSIGN_OR_RETURN(std::uint64_t last, txn.attendance().LastSeq(uploader));
        ingest::TapContext tc;
        tc.agent = uploader;
        tc.facility = facility->id;
        tc.rules = &rules;
        tc.received_at = who.at;
        tc.source = "staff=" + ctx.staff.id.ToString();
        tc.recorded_by = who.user;
        tc.note = note;
        wire::Tap tap;
        tap.seq = last + 1;
        tap.card = card->token;
        tap.at = at;
        tap.reader = "staff";
        tap.direction = direction;
        ANSHIN_ASSIGN_OR_RETURN(ingest::AppliedTap out, ingest::ApplyTap(txn, tc, tap));
        ANSHIN_RETURN_IF_ERROR(services::AppendAudit(
            txn, who, "tap.recorded",
            "child=" + child->id.ToString() + " facility=" + facility->id.ToString() +
                " direction=" + direction_word + " at=" + FormatRfc3339(at) + " decision=" +
                std::string(ReasonName(out.reason)) + " mails=" + std::to_string(out.outbox_rows)));
        return out;
      });
  if (!applied.ok()) return Refused(req, ctx, applied.status(), back);
  if (outbox_listener_) outbox_listener_();
  std::string target = "/board?done=" + std::string(ReasonName(applied->reason));
  if (ctx.staff.role != store::StaffRole::kFacility) target += "&facility=" + facility->code;
  return Redirect(req, target);
}

}  // namespace anshin::console

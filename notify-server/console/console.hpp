// Console: the staff console's pages over the services (docs/console.md). Handle() routes a
// request (router.hpp), authenticates its session cookie (services/staff.hpp), checks the CSRF
// token of every POST, asks services/authz.hpp for every page and renders the answer.
//
//   - cookies: "__Host-anshin_session" (the session; its value is never stored) and, before a
//     login, "__Host-anshin_login_csrf" (the login form's CSRF token, checked against the form
//     field: a login cannot be forged from another site); both Secure, HttpOnly,
//     SameSite=Strict, Path=/;
//   - a POST whose csrf field does not match its session's (or the login cookie's) token is 403;
//   - a page the account's role may not see is 403, and a child of another facility asked for by
//     a facility account is also written to the audit log (console.denied);
//   - views of children go through services::Inquiries, which audits them.
// Errors from the services are answered with a generic page; the Status is logged (it may
// quote SQL, never personal data).
//
// Thread-safety: Handle() may be called from several threads at once. It blocks on the store,
// and a login hashes a password (~0.1 s): call it on a worker, never on the network thread.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "common/time.hpp"
#include "notify-server/console/access_watch.hpp"
#include "notify-server/console/router.hpp"
#include "services/cards.hpp"
#include "services/children.hpp"
#include "services/facilities.hpp"
#include "services/guardians.hpp"
#include "services/inquiries.hpp"
#include "services/notices.hpp"
#include "services/staff.hpp"
#include "store/store.hpp"

namespace anshin::console {

inline constexpr std::string_view kSessionCookie = "__Host-anshin_session";
inline constexpr std::string_view kLoginCsrfCookie = "__Host-anshin_login_csrf";

class Console {
 public:
  Console(store::Store& store, const Clock& clock, services::ZoneLoader zones);

  Response Handle(const Request& req);
  // alerts.unusual_access_per_hour: opening more children's records than this in an hour
  // raises an `unusual_access` alert (access_watch.hpp). 40 until set.
  void SetUnusualAccessLimit(int per_hour) { access_.SetLimit(per_hour); }
  // Called after a recorded tap queued mail (the mailer's wake-up); set before traffic.
  void SetOutboxListener(std::function<void()> listener) { outbox_listener_ = std::move(listener); }
  // server.card_key: a replacement card may then be bound by its IDm (turned into its token at
  // once, never stored or logged), not only by its token. Set before traffic.
  void SetCardKey(const CardKey& key) { card_key_ = key; }

 private:
  Response ShowLoginForm(const Request& req, server::http::status status, std::string_view message,
                         std::string_view name);
  Response PostLogin(const Request& req);
  Response PostLogout(const Request& req, const services::StaffContext& ctx);
  Response Search(const Request& req, const services::StaffContext& ctx, const SearchPage& page);
  Response Child(const Request& req, const services::StaffContext& ctx, const ChildPage& page);
  Response Audit(const Request& req, const services::StaffContext& ctx, const AuditPage& page);
  // console_actions.cpp: the call centre's actions on a child's page, and the alerts.
  Response PostChildAction(const Request& req, const services::StaffContext& ctx,
                           const ChildAction& action);
  // The new card a replacement form names: its token, or its IDm with the card key.
  Result<CardToken> NewCardOf(std::string_view typed) const;
  Response Alerts(const Request& req, const services::StaffContext& ctx);
  Response PostAckAlert(const Request& req, const services::StaffContext& ctx, std::int64_t id);
  // console_board.cpp: the facility board, its events and the operations page.
  Response Board(const Request& req, const services::StaffContext& ctx, const BoardPage& page);
  Response BoardEventsOf(const Request& req, const services::StaffContext& ctx,
                         const BoardEvents& events);
  Response Operations(const Request& req, const services::StaffContext& ctx);
  // console_taps.cpp: a forgotten tap recorded by staff.
  Response PostBoardTap(const Request& req, const services::StaffContext& ctx);
  struct BoardView;
  Result<BoardView> RenderBoard(const services::StaffContext& ctx, const store::Facility& facility);
  // The board's facility: a facility account's own; for the others the one `code` names
  // (nullopt: none chosen or no such code).
  Result<std::optional<store::Facility>> BoardFacility(const services::StaffContext& ctx,
                                                       std::string_view code);
  // A POST's form when its csrf field is the session's token.
  std::optional<std::map<std::string, std::string>> CheckedForm(
      const Request& req, const services::StaffContext& ctx) const;
  // A page saying an action was refused, with the services' reason and a way back.
  Response Refused(const Request& req, const services::StaffContext& ctx, const Status& status,
                   std::string_view back);
  // Writes console.denied to the audit log and answers 403.
  Response Denied(const Request& req, const services::StaffContext& ctx, std::string_view what);
  Response Forbidden(const Request& req, const services::StaffContext& ctx);
  Response Failed(const Request& req, const services::StaffContext* ctx, const Status& status);
  store::Actor Who(const services::StaffContext& ctx) const;

  store::Store& store_;
  const Clock& clock_;
  services::StaffAccounts accounts_;
  services::Inquiries inquiries_;
  services::Cards cards_;
  services::Guardians guardians_;
  services::Notices notices_;
  services::Children children_;
  AccessWatch access_{40};
  std::function<void()> outbox_listener_;
  std::optional<CardKey> card_key_;
};

}  // namespace anshin::console

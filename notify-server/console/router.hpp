// Routing of the staff console (docs/console.md): a pure function from a request to the page
// the console must build, or a finished response (404, 405 with Allow, 400). No I/O, no state;
// identity, CSRF and authorization need the store and are Console's job (console.hpp).
//
//   GET  /login               the login form (sets the pre-session CSRF cookie)
//   POST /login               name, password, csrf (form-urlencoded)
//   POST /logout              csrf
//   GET  /                    redirects to the page for the account's role
//   GET  /children?q=         search
//   GET  /children/{id}       a child's page
//   POST /children/{id}/card-lost    csrf                 the child's active card is lost
//   POST /children/{id}/card-found   csrf, card           a lost card (token hex) is back
//   POST /children/{id}/card-replace csrf, card           a new card (IDm or token) replaces
//                                                         the current one (or is the first)
//   POST /children/{id}/resend       csrf, mail           an attendance notice sent again
//   POST /children/{id}/address      csrf, guardian, email  an address fixed (re-verification)
//   POST /children/{id}/code         csrf, guardian, code   a verification code read out
//   POST /children/{id}/absence      csrf, from, to, reason  a guardian's call: not coming
//   POST /children/{id}/attends      csrf, mon..sun (=1)  the weekdays the child attends
//   GET  /alerts              the alerts (open first)
//   POST /alerts/{id}/ack     csrf, note
//   GET  /board               the facility board: today's children and their state
//   GET  /board/events        server-sent events: the board's version (see console.hpp)
//   POST /board/taps          csrf, child, direction, time, note: a forgotten tap recorded
//   GET  /operations          every facility's PC, reader, queue, mail delivery, open alerts
//   GET  /audit?q=&since=     the audit log (auditor, admin), filtered
//   GET  /static/console.css  the style sheet
//   GET  /static/board.js     the board's live update (the console's only script)
#pragma once

#include "notify-server/http/net.hpp"

#include <string>
#include <string_view>
#include <variant>

#include "common/types.hpp"

namespace anshin::console {

using server::Request;
using server::Response;

struct LoginForm {};
struct LoginPost {};
struct LogoutPost {};
struct HomePage {};
struct SearchPage {
  std::string q;
};
struct ChildPage {
  ChildId id;
  std::string done;  // ?done=: the action just done, for the page's message
};
struct AuditPage {
  std::string text;   // ?q=: entries whose actor, action or detail contain it (percent-encoded)
  std::string since;  // ?since=YYYY-MM-DD
};
struct StyleSheet {};
struct Script {};
// A POST on a child's page; what it names (card, mail, guardian) is in the form.
enum class ChildActionKind {
  kCardLost,
  kCardFound,
  kReplaceCard,
  kResend,
  kFixAddress,
  kEnterCode,
  kAbsence,
  kAttendDays
};
struct ChildAction {
  ChildId child;
  ChildActionKind kind;
};
struct AlertsPage {};
struct AckAlert {
  std::int64_t id = 0;
};
struct BoardPage {
  std::string facility;  // ?facility=code, for the roles that see every facility
  std::string done;      // ?done=: the decision on a tap just recorded
};
struct BoardEvents {
  std::string facility;
};
struct OperationsPage {};
struct BoardTap {};

using ConsoleCall = std::variant<Response, LoginForm, LoginPost, LogoutPost, HomePage, SearchPage,
                                 ChildPage, AuditPage, StyleSheet, Script, ChildAction, AlertsPage,
                                 AckAlert, BoardPage, BoardEvents, OperationsPage, BoardTap>;

ConsoleCall Route(const Request& req);

// The headers every console response carries: the strict Content-Security-Policy,
// X-Frame-Options, nosniff, Referrer-Policy, HSTS and Cache-Control: no-store.
void AddConsoleHeaders(Response& res);
// A finished response with the console headers.
Response HtmlResponse(const Request& req, server::http::status status, std::string body);
Response TextResponse(const Request& req, server::http::status status,
                      std::string_view content_type, std::string body);
// 303 See Other to `location`.
Response Redirect(const Request& req, std::string_view location);

// "Set-Cookie" value: name=value; Secure; HttpOnly; SameSite=Strict; Path=/ (and Max-Age=0 to
// delete it when `value` is empty).
std::string CookieHeader(std::string_view name, std::string_view value);

}  // namespace anshin::console

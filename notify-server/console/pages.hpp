// Rendering of the console's pages: the mustache templates (assets.hpp) with every {{value}}
// HTML-escaped by kainjow::mustache; only the layout's {{{body}}} takes already rendered HTML.
// The words shown for roles, card states, directions, mail kinds and states live here.
#pragma once

#include <array>
#include <kainjow/mustache.hpp>
#include <string>
#include <string_view>

#include "common/engine.hpp"
#include "store/records.hpp"

namespace anshin::console {

using Data = kainjow::mustache::data;

// The template `name` ("login.mustache") rendered with `data`.
std::string Render(std::string_view name, const Data& data);

// A whole page: the layout around `body_html`; the header shows the account and its logout
// form (with the session's CSRF token) when `staff` is given.
std::string Page(std::string_view title, const std::string& body_html, const store::Staff* staff,
                 std::string_view csrf);

std::string_view RoleInWords(store::StaffRole role);
std::string_view CardStatusInWords(CardStatus status);
std::string_view DirectionInWords(Direction direction);
std::string_view MailKindInWords(store::OutboxKind kind);
std::string_view MailStateInWords(store::OutboxState state);
// An inline SVG bar chart of arrivals and departures per local hour (from 7:00 to 21:00, the
// rest added to the first and last bars), drawn with presentation attributes only (the CSP
// allows no inline style).
std::string HourChartSvg(const std::array<int, 24>& arrivals,
                         const std::array<int, 24>& departures);

// Each weekday's form field and Japanese name, Sunday first (as LocalDate::Weekday() counts).
inline constexpr std::array<std::string_view, 7> kWeekdayFields = {"sun", "mon", "tue", "wed",
                                                                   "thu", "fri", "sat"};
inline constexpr std::array<std::string_view, 7> kWeekdayKanji = {"日", "月", "火", "水",
                                                                  "木", "金", "土"};
// "月・水・金" (from Monday), "未登録" for none.
std::string WeekdaysInJapanese(store::Weekdays days);

// The engine's decision on a tap, in Japanese: whether it was mailed and why not.
std::string_view ReasonInJapanese(Reason reason);

}  // namespace anshin::console

// Rendering of the console's pages: the mustache templates (assets.hpp) with every {{value}}
// HTML-escaped by kainjow::mustache; only the layout's {{{body}}} takes already rendered HTML.
// The words shown for roles, card states, directions, mail kinds and states live here.
#pragma once

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

}  // namespace anshin::console

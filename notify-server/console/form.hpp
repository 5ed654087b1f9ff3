// The console's small parsers: application/x-www-form-urlencoded bodies and queries, and the
// Cookie header. Pure; malformed percent escapes make the whole value invalid (nullopt) rather
// than being guessed at.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace anshin::console {

// "a=1&b=%E3%81%82+x" -> {a: "1", b: "あ x"}; nullopt when an escape is malformed. A name given
// twice keeps its first value.
std::optional<std::map<std::string, std::string>> ParseForm(std::string_view body);

// "12" -> 12; nullopt for anything but a positive decimal number (a form's id field).
std::optional<std::int64_t> PositiveInt(std::string_view digits);

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or empty.
std::string CookieValue(std::string_view header, std::string_view name);

}  // namespace anshin::console

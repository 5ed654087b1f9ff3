// The one rule for each kind of value people type: e-mail addresses and names. Used where a
// value enters (registration, import, the console) and where it leaves (mail composition), so
// a value accepted once can never fail later. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "common/status.hpp"

namespace anshin {

inline constexpr std::size_t kMaxNameChars = 100;

// An address "local@domain": an ASCII dot-atom local part (RFC 5322 atext; no leading,
// trailing or double dots) of at most 64 octets, and a domain of at least two labels of
// letters, digits and hyphens (no label starts or ends with a hyphen; labels ≤ 63 octets;
// domain ≤ 253), at most 254 octets in all. InvalidArgument("email: ...") otherwise; the
// message never repeats the address.
Status CheckEmailAddress(std::string_view address);

// A display name (child, facility, ...): valid UTF-8, not empty or only spaces, no control
// characters (C0 including TAB, CR, LF and ESC; DEL; C1), no line or paragraph separators, at
// most `max_chars` code points. InvalidArgument("<field>: ...") otherwise, without the value.
Status CheckName(std::string_view field, std::string_view value,
                 std::size_t max_chars = kMaxNameChars);

}  // namespace anshin

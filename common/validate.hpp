// The one rule for each kind of value a person types in: mail addresses and names (of children,
// facilities, guardians). Used where a value enters (registration, import, anshin-admin) and
// where it leaves (mail composition), so a value that was accepted can always be sent.
//
// Pure functions, thread-safe. Errors are InvalidArgument; the message names the field and says
// what is wrong but never repeats the value (it is personal data and may end up in a log).
#pragma once

#include <cstddef>
#include <string_view>

#include "common/status.hpp"

namespace anshin {

// Longest child, facility or guardian name, in Unicode code points.
inline constexpr std::size_t kMaxNameChars = 100;
// RFC 5321 section 4.5.3.1: local part, domain, and the whole address (path minus "<>").
inline constexpr std::size_t kMaxLocalPartOctets = 64;
inline constexpr std::size_t kMaxDomainOctets = 253;
inline constexpr std::size_t kMaxAddressOctets = 254;
inline constexpr std::size_t kMaxDomainLabelOctets = 63;

// A mail address as anshin accepts it, everywhere:
//   local "@" domain, ASCII only, at most 254 octets;
//   local part: 1 to 64 octets of RFC 5322 atext (letters, digits and !#$%&'*+-/=?^_`{|}~)
//     separated by dots, not starting with a dot. No quoted strings, comments, spaces or the
//     specials ()<>[]:;@\,". One exception to dot-atom: consecutive dots and a dot just before
//     the '@' are accepted, because Japanese carriers (docomo, au) issued such addresses
//     ("taro..yamada.@docomo.ne.jp") for years, guardians still use them and the carriers'
//     servers accept mail for them;
//   domain: at least two dot-separated labels of letters, digits and hyphens (no underscore),
//     each 1 to 63 octets and not starting or ending with a hyphen, at most 253 octets, no
//     trailing dot. Address literals ("[192.0.2.1]") are refused.
Status CheckEmailAddress(std::string_view address);

// A host name as in the domain part above (also the domain of a Message-ID).
bool IsDomainName(std::string_view domain);

// A name: valid UTF-8, not empty or only spaces (U+0020, U+3000 and the other Unicode space
// separators), no control characters (C0 including TAB, CR, LF and ESC; DEL; C1 U+0080..U+009F),
// no line or paragraph separator (U+2028, U+2029), at most `max_chars` code points.
// `field` names the value in the error: "child name: contains a control character".
Status CheckName(std::string_view field, std::string_view value,
                 std::size_t max_chars = kMaxNameChars);

// Length in bytes of the well-formed UTF-8 character starting at text[i] (i < text.size()), or
// 0 when it is malformed (bad lead or continuation byte, truncated, overlong, a surrogate, or
// above U+10FFFF). When `code_point` is not null it receives the decoded value.
std::size_t Utf8CharLength(std::string_view text, std::size_t i, char32_t* code_point = nullptr);

// True when all of `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

}  // namespace anshin

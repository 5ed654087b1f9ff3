// RFC 5322 / MIME rendering of anshin's notification mail (DESIGN.md §6). Pure: no I/O.
//
// A MailMessage holds UTF-8 text; RenderMessage() turns it into the exact bytes handed to the
// SMTP relay (CRLF line ends, every line ASCII and shorter than 78 characters):
//   - Subject and the From display name as RFC 2047 B encoded-words (each <= 75 characters,
//     split on character boundaries), folded over several header lines;
//   - a UTF-8 body as base64 (lines of 76), or, with Charset::kIso2022Jp for old handsets, an
//     ISO-2022-JP 7bit body with an ISO-2022-JP encoded subject (converted with glibc's iconv);
//   - Date (RFC 5322 form, in the given zone), Message-ID, MIME-Version, Content-Type and
//     Content-Transfer-Encoding.
// Header injection is impossible: every header value is checked for CR, LF and other control
// characters and every address with CheckEmailAddress (common/validate.hpp, the rule also used
// at registration); a violation is an InvalidArgument.
// SMTP dot-stuffing is the transport's business (libcurl does it) and is not done here.
//
// All functions are thread-safe (each iconv conversion uses its own descriptor).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "common/time.hpp"
#include "common/validate.hpp"

namespace anshin::mail {

enum class Charset { kUtf8, kIso2022Jp };

// Checks one header value: valid UTF-8, no CR, LF or other control characters (TAB included).
// `field` names the value in the error ("subject: contains a control character").
Status ValidateHeaderText(std::string_view field, std::string_view value);

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
using anshin::IsValidUtf8;

std::string Base64Encode(std::string_view bytes);
// Accepts line breaks between groups; anything else that is not base64 is an error.
Result<std::string> Base64Decode(std::string_view text);

// Converts UTF-8 to ISO-2022-JP (ending in ASCII state). Characters outside ASCII and JIS X 0208
// (e.g. half-width katakana, emoji, circled digits, some name kanji) give InvalidArgument
// naming the first such character's position.
Result<std::string> ToIso2022Jp(std::string_view utf8);

// RFC 2047 B encoded-words for `text`, split so that each word carries whole characters and
// is at most `max_word` characters long (at most 75). With kIso2022Jp every word is a complete
// ISO-2022-JP sequence returning to ASCII.
Result<std::vector<std::string>> EncodeWords(std::string_view text, Charset charset,
                                             std::size_t max_word = 75);

// "Thu, 26 Nov 2026 15:02:00 +0900" (RFC 5322 section 3.3), in `zone`.
std::string FormatRfc5322Date(TimePoint t, const TimeZone& zone);

// "<local@domain>" from a unique local part (dot-atom characters) and the sending domain.
Result<std::string> MakeMessageId(std::string_view unique, std::string_view domain);

struct MailMessage {
  std::string from_address;  // the fixed sending address, also the envelope sender
  std::string from_name;     // display name (UTF-8), may be empty
  std::optional<std::string> reply_to;
  std::string to;
  std::string subject;     // UTF-8, one line
  std::string body;        // UTF-8, '\n' or "\r\n" line ends
  std::string message_id;  // "<local@domain>", see MakeMessageId
  TimePoint date;
  Charset charset = Charset::kUtf8;
};

// The message as sent: headers and body with CRLF line ends.
Result<std::string> RenderMessage(const MailMessage& message, const TimeZone& zone);

}  // namespace anshin::mail

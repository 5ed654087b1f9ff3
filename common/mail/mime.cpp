#include "common/mail/mime.hpp"

#include "common/validate.hpp"

#include <iconv.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace anshin::mail {
namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
// Header lines stay below 78 characters (RFC 5322 section 2.1.1), CRLF excluded.
constexpr std::size_t kMaxHeaderLine = 77;
// Each encoded-word must fit on the first line after "Subject: " too.
constexpr std::size_t kMaxWordInHeader = 66;
constexpr std::size_t kBase64LineLength = 76;

bool IsAtext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// Splits valid UTF-8 into its characters.
std::vector<std::string_view> Utf8Chars(std::string_view text) {
  std::vector<std::string_view> chars;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = Utf8CharLength(text, i);
    if (n == 0) n = 1;  // callers validate first; never loop forever
    chars.push_back(text.substr(i, n));
    i += n;
  }
  return chars;
}

bool IsPrintableAscii(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

// Folds `tokens` after "Name:" into lines shorter than 78 characters, separated by CRLF SP.
std::string FoldHeader(std::string_view name, const std::vector<std::string>& tokens) {
  std::string out(name);
  out += ':';
  std::size_t line_start = 0;
  for (const std::string& token : tokens) {
    if (out.size() - line_start + 1 + token.size() > kMaxHeaderLine &&
        out.size() - line_start > name.size() + 1) {
      out += "\r\n";
      line_start = out.size();
    }
    out += ' ';
    out += token;
  }
  out += "\r\n";
  return out;
}

// An iconv descriptor UTF-8 -> ISO-2022-JP, closed on destruction.
class Iso2022JpConverter {
 public:
  Iso2022JpConverter() : cd_(iconv_open("ISO-2022-JP", "UTF-8")) {}
  ~Iso2022JpConverter() {
    if (ok()) iconv_close(cd_);
  }
  Iso2022JpConverter(const Iso2022JpConverter&) = delete;
  Iso2022JpConverter& operator=(const Iso2022JpConverter&) = delete;
  bool ok() const { return cd_ != reinterpret_cast<iconv_t>(-1); }

  // Converts `utf8` as one complete sequence ending in ASCII state.
  Result<std::string> Convert(std::string_view utf8) {
    iconv(cd_, nullptr, nullptr, nullptr, nullptr);  // initial state
    std::string out(utf8.size() * 4 + 16, '\0');
    char* in_ptr = const_cast<char*>(utf8.data());
    std::size_t in_left = utf8.size();
    char* out_ptr = out.data();
    std::size_t out_left = out.size();
    if (iconv(cd_, &in_ptr, &in_left, &out_ptr, &out_left) == static_cast<std::size_t>(-1)) {
      int err = errno;
      std::size_t at = utf8.size() - in_left;
      if (err == EILSEQ) {
        std::size_t n = Utf8CharLength(utf8, at);
        return Status::InvalidArgument("character \"" + std::string(utf8.substr(at, n ? n : 1)) +
                                       "\" at byte " + std::to_string(at) +
                                       " cannot be written in ISO-2022-JP");
      }
      return Status::InvalidArgument("ISO-2022-JP conversion failed at byte " + std::to_string(at) +
                                     ": " + std::strerror(err));
    }
    if (iconv(cd_, nullptr, nullptr, &out_ptr, &out_left) == static_cast<std::size_t>(-1)) {
      return Status::Internal(std::string("ISO-2022-JP conversion: ") + std::strerror(errno));
    }
    out.resize(out.size() - out_left);
    return out;
  }

 private:
  iconv_t cd_;
};

Result<Iso2022JpConverter*> OpenConverter(Iso2022JpConverter& c) {
  if (!c.ok())
    return Status::Internal(std::string("iconv_open(ISO-2022-JP): ") + std::strerror(errno));
  return &c;
}

std::string EncodedWord(std::string_view charset_name, std::string_view bytes) {
  return "=?" + std::string(charset_name) + "?B?" + Base64Encode(bytes) + "?=";
}

// Splits text into lines (accepting "\n" and "\r\n"); a trailing line end adds no empty line.
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return lines;
}

Result<std::string> Iso2022JpBody(std::string_view body) {
  Iso2022JpConverter converter;
  ANSHIN_ASSIGN_OR_RETURN(Iso2022JpConverter * conv, OpenConverter(converter));
  std::string out;
  std::size_t line_no = 0;
  for (std::string_view line : SplitLines(body)) {
    ++line_no;
    // Long lines are cut on character boundaries so that every output line stays below 78
    // characters; each piece is a complete ISO-2022-JP sequence returning to ASCII.
    std::vector<std::string_view> chars = Utf8Chars(line);
    std::size_t i = 0;
    do {
      std::string best;
      std::size_t taken = 0;
      std::size_t start_byte =
          chars.empty() ? 0 : static_cast<std::size_t>(chars[i].data() - line.data());
      for (std::size_t j = i; j < chars.size(); ++j) {
        std::size_t end_byte = chars[j].data() - line.data() + chars[j].size();
        auto converted = conv->Convert(line.substr(start_byte, end_byte - start_byte));
        if (!converted.ok())
          return converted.status().WithContext("body line " + std::to_string(line_no));
        if (converted->size() > kBase64LineLength && taken > 0) break;
        best = std::move(converted).value();
        taken = j - i + 1;
      }
      out += best;
      out += "\r\n";
      i += taken;
    } while (i < chars.size());
  }
  return out;
}

std::string Utf8Base64Body(std::string_view body) {
  std::string crlf;
  for (std::string_view line : SplitLines(body)) {
    crlf += line;
    crlf += "\r\n";
  }
  std::string encoded = Base64Encode(crlf);
  std::string out;
  for (std::size_t i = 0; i < encoded.size(); i += kBase64LineLength) {
    out += encoded.substr(i, kBase64LineLength);
    out += "\r\n";
  }
  return out;
}

}  // namespace

Status ValidateHeaderText(std::string_view field, std::string_view value) {
  if (!IsValidUtf8(value)) return Status::InvalidArgument(std::string(field) + ": not valid UTF-8");
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u == '\r' || u == '\n')
      return Status::InvalidArgument(std::string(field) + ": contains a line break");
    if (u < 0x20 || u == 0x7F)
      return Status::InvalidArgument(std::string(field) + ": contains a control character");
  }
  // C1 controls (U+0080..U+009F) are encoded as C2 80..C2 9F.
  for (std::size_t i = 0; i + 1 < value.size(); ++i) {
    if (static_cast<unsigned char>(value[i]) == 0xC2 &&
        static_cast<unsigned char>(value[i + 1]) < 0xA0) {
      return Status::InvalidArgument(std::string(field) + ": contains a control character");
    }
  }
  return Status::Ok();
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto b = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += kBase64Alphabet[(v >> 6) & 63];
    out += kBase64Alphabet[v & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    std::uint32_t v = b(i) << 16;
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    std::uint32_t v = (b(i) << 16) | (b(i + 1) << 8);
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += kBase64Alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (char c : text) {
    if (c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return Status::InvalidArgument("base64: data after padding");
    std::size_t v = kBase64Alphabet.find(c);
    if (v == std::string_view::npos) return Status::InvalidArgument("base64: invalid character");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (padding > 2 || bits >= 6) return Status::InvalidArgument("base64: truncated input");
  return out;
}

Result<std::string> ToIso2022Jp(std::string_view utf8) {
  if (!IsValidUtf8(utf8)) return Status::InvalidArgument("not valid UTF-8");
  Iso2022JpConverter converter;
  ANSHIN_ASSIGN_OR_RETURN(Iso2022JpConverter * conv, OpenConverter(converter));
  return conv->Convert(utf8);
}

Result<std::vector<std::string>> EncodeWords(std::string_view text, Charset charset,
                                             std::size_t max_word) {
  if (!IsValidUtf8(text)) return Status::InvalidArgument("not valid UTF-8");
  max_word = std::min<std::size_t>(max_word, 75);
  const std::string_view name = charset == Charset::kUtf8 ? "UTF-8" : "ISO-2022-JP";
  const std::size_t overhead = name.size() + 7;  // "=?" name "?B?" ... "?="
  auto encoded_length = [&](std::size_t raw) { return overhead + (raw + 2) / 3 * 4; };

  Iso2022JpConverter converter;
  Iso2022JpConverter* conv = nullptr;
  if (charset == Charset::kIso2022Jp) {
    ANSHIN_ASSIGN_OR_RETURN(conv, OpenConverter(converter));
  }
  std::vector<std::string_view> chars = Utf8Chars(text);
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < chars.size()) {
    std::size_t start_byte = chars[i].data() - text.data();
    std::string best;
    std::size_t taken = 0;
    for (std::size_t j = i; j < chars.size(); ++j) {
      std::size_t end_byte = chars[j].data() - text.data() + chars[j].size();
      std::string_view piece = text.substr(start_byte, end_byte - start_byte);
      std::string raw;
      if (conv != nullptr) {
        ANSHIN_ASSIGN_OR_RETURN(raw, conv->Convert(piece));
      } else {
        raw = std::string(piece);
      }
      if (encoded_length(raw.size()) > max_word) break;
      best = std::move(raw);
      taken = j - i + 1;
    }
    if (taken == 0)
      return Status::InvalidArgument("encoded-word limit too small for one character");
    words.push_back(EncodedWord(name, best));
    i += taken;
  }
  return words;
}

std::string FormatRfc5322Date(TimePoint t, const TimeZone& zone) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  LocalDateTime local = zone.ToLocal(t);
  int offset_min = local.utc_offset_seconds / 60;
  char sign = offset_min < 0 ? '-' : '+';
  if (offset_min < 0) offset_min = -offset_min;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d %c%02d%02d",
                kDays[local.date.Weekday() % 7], local.date.day,
                kMonths[(local.date.month - 1) % 12], local.date.year, local.time.hour(),
                local.time.minute(), local.time.seconds % 60, sign, offset_min / 60,
                offset_min % 60);
  return buf;
}

Result<std::string> MakeMessageId(std::string_view unique, std::string_view domain) {
  if (unique.empty() || unique.front() == '.' || unique.back() == '.' ||
      unique.find("..") != std::string_view::npos) {
    return Status::InvalidArgument("message id: bad unique part");
  }
  for (char c : unique) {
    if (c != '.' && !IsAtext(c))
      return Status::InvalidArgument("message id: bad character in unique part");
  }
  if (!IsDomainName(domain))
    return Status::InvalidArgument("message id: domain is not a valid host name");
  return "<" + std::string(unique) + "@" + std::string(domain) + ">";
}

Result<std::string> RenderMessage(const MailMessage& m, const TimeZone& zone) {
  ANSHIN_RETURN_IF_ERROR(CheckEmailAddress(m.from_address).WithContext("from"));
  ANSHIN_RETURN_IF_ERROR(CheckEmailAddress(m.to).WithContext("to"));
  if (m.reply_to) ANSHIN_RETURN_IF_ERROR(CheckEmailAddress(*m.reply_to).WithContext("reply-to"));
  ANSHIN_RETURN_IF_ERROR(ValidateHeaderText("from name", m.from_name));
  ANSHIN_RETURN_IF_ERROR(ValidateHeaderText("subject", m.subject));
  if (m.message_id.size() < 5 || m.message_id.front() != '<' || m.message_id.back() != '>' ||
      !IsPrintableAscii(m.message_id) || m.message_id.find(' ') != std::string::npos) {
    return Status::InvalidArgument("message id: expected <local@domain>");
  }
  if (!IsValidUtf8(m.body)) return Status::InvalidArgument("body: not valid UTF-8");
  for (char c : m.body) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n' && c != '\r' && c != '\t') || u == 0x7F) {
      return Status::InvalidArgument("body: contains a control character");
    }
  }

  const bool jis = m.charset == Charset::kIso2022Jp;
  std::string out;
  out += "Date: " + FormatRfc5322Date(m.date, zone) + "\r\n";
  if (m.from_name.empty()) {
    out += "From: " + m.from_address + "\r\n";
  } else {
    ANSHIN_ASSIGN_OR_RETURN(std::vector<std::string> words,
                            EncodeWords(m.from_name, m.charset, kMaxWordInHeader));
    words.push_back("<" + m.from_address + ">");
    out += FoldHeader("From", words);
  }
  if (m.reply_to) out += "Reply-To: " + *m.reply_to + "\r\n";
  out += "To: " + m.to + "\r\n";
  if (IsPrintableAscii(m.subject) && 9 + m.subject.size() <= kMaxHeaderLine) {
    out += "Subject: " + m.subject + "\r\n";
  } else {
    auto words = EncodeWords(m.subject, m.charset, kMaxWordInHeader);
    if (!words.ok()) return words.status().WithContext("subject");
    out += FoldHeader("Subject", *words);
  }
  out += "Message-ID: " + m.message_id + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  if (jis) {
    ANSHIN_ASSIGN_OR_RETURN(std::string body, Iso2022JpBody(m.body));
    out += "Content-Type: text/plain; charset=ISO-2022-JP\r\n";
    out += "Content-Transfer-Encoding: 7bit\r\n\r\n";
    out += body;
  } else {
    out += "Content-Type: text/plain; charset=UTF-8\r\n";
    out += "Content-Transfer-Encoding: base64\r\n\r\n";
    out += Utf8Base64Body(m.body);
  }
  return out;
}

}  // namespace anshin::mail

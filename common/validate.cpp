#include "common/validate.hpp"

#include <string>

namespace anshin {
namespace {

Status Bad(std::string_view field, std::string_view what) {
  std::string m(field);
  m += ": ";
  m += what;
  return Status::InvalidArgument(std::move(m));
}

bool IsAtext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool IsLdh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// Unicode general category Zs (space separators).
bool IsSpace(char32_t cp) {
  return cp == 0x20 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

Status CheckLocalPart(std::string_view local) {
  constexpr std::string_view kField = "mail address";
  if (local.empty()) return Bad(kField, "has nothing before the '@'");
  if (local.size() > kMaxLocalPartOctets)
    return Bad(kField, "has more than 64 characters before the '@'");
  if (local.front() == '.') return Bad(kField, "starts with a dot");
  for (char c : local) {
    if (c != '.' && !IsAtext(c))
      return Bad(kField, "contains a character that is not allowed before the '@'");
  }
  return Status::Ok();
}

}  // namespace

std::size_t Utf8CharLength(std::string_view text, std::size_t i, char32_t* code_point) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = b(i);
  std::size_t n;
  char32_t cp;
  if (c < 0x80) {
    n = 1;
    cp = c;
  } else if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  if (code_point != nullptr) *code_point = cp;
  return n;
}

bool IsValidUtf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = Utf8CharLength(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

bool IsDomainName(std::string_view domain) {
  if (domain.empty() || domain.size() > kMaxDomainOctets) return false;
  std::size_t labels = 0;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = domain.find('.', start);
    std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > kMaxDomainLabelOctets || label.front() == '-' ||
        label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!IsLdh(c)) return false;
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2;
}

Status CheckEmailAddress(std::string_view address) {
  constexpr std::string_view kField = "mail address";
  if (address.empty()) return Bad(kField, "is empty");
  if (address.size() > kMaxAddressOctets) return Bad(kField, "is longer than 254 characters");
  for (char c : address) {
    auto u = static_cast<unsigned char>(c);
    if (u == '\r' || u == '\n') return Bad(kField, "contains a line break");
    if (u < 0x20 || u == 0x7F) return Bad(kField, "contains a control character");
    if (u > 0x7E) return Bad(kField, "contains a non-ASCII character");
    if (c == ' ') return Bad(kField, "contains a space");
  }
  std::size_t at = address.find('@');
  if (at == std::string_view::npos) return Bad(kField, "has no '@'");
  if (address.find('@', at + 1) != std::string_view::npos)
    return Bad(kField, "has more than one '@'");
  ANSHIN_RETURN_IF_ERROR(CheckLocalPart(address.substr(0, at)));
  if (!IsDomainName(address.substr(at + 1))) {
    return Bad(kField,
               "has no valid domain after the '@' (two or more labels of letters, digits and "
               "hyphens)");
  }
  return Status::Ok();
}

Status CheckName(std::string_view field, std::string_view value, std::size_t max_chars) {
  if (!IsValidUtf8(value)) return Bad(field, "is not valid UTF-8");
  std::size_t chars = 0;
  bool only_spaces = true;
  for (std::size_t i = 0; i < value.size();) {
    char32_t cp = 0;
    i += Utf8CharLength(value, i, &cp);
    ++chars;
    if (cp == '\r' || cp == '\n' || cp == 0x2028 || cp == 0x2029)
      return Bad(field, "contains a line break");
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return Bad(field, "contains a control character");
    only_spaces = only_spaces && IsSpace(cp);
  }
  if (chars == 0) return Bad(field, "must not be empty");
  if (only_spaces) return Bad(field, "must not be only spaces");
  if (chars > max_chars)
    return Bad(field, "is longer than " + std::to_string(max_chars) + " characters");
  return Status::Ok();
}

}  // namespace anshin

#include "common/validate.hpp"

#include <string>

namespace anshin {
namespace {

bool IsAtext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool IsLdh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

Status Bad(std::string_view field, std::string_view what) {
  return Status::InvalidArgument(std::string(field) + ": " + std::string(what));
}

// Decodes one UTF-8 sequence at text[i]; 0 when invalid (overlong, surrogate, > U+10FFFF).
std::size_t DecodeUtf8(std::string_view text, std::size_t i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  std::size_t n;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2;
    cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    cp = b0 & 0x0f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

}  // namespace

Status CheckEmailAddress(std::string_view a) {
  constexpr std::string_view kField = "email";
  if (a.empty()) return Bad(kField, "must not be empty");
  if (a.size() > 254) return Bad(kField, "longer than 254 characters");
  const std::size_t at = a.rfind('@');
  if (at == std::string_view::npos) return Bad(kField, "has no @");
  const std::string_view local = a.substr(0, at), domain = a.substr(at + 1);
  if (local.empty()) return Bad(kField, "nothing before the @");
  if (local.size() > 64) return Bad(kField, "the part before the @ is longer than 64 characters");
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
    return Bad(kField, "a dot at the start or end of the part before the @, or two dots in a row");
  for (char c : local) {
    if (c != '.' && !IsAtext(c))
      return Bad(kField, "the part before the @ has a character not allowed in an address");
  }
  if (domain.empty()) return Bad(kField, "nothing after the @");
  if (domain.size() > 253) return Bad(kField, "the domain is longer than 253 characters");
  int labels = 0;
  std::size_t start = 0;
  while (start <= domain.size()) {
    std::size_t dot = domain.find('.', start);
    if (dot == std::string_view::npos) dot = domain.size();
    const std::string_view label = domain.substr(start, dot - start);
    if (label.empty()) return Bad(kField, "the domain has an empty label");
    if (label.size() > 63) return Bad(kField, "a domain label is longer than 63 characters");
    if (label.front() == '-' || label.back() == '-')
      return Bad(kField, "a domain label starts or ends with a hyphen");
    for (char c : label) {
      if (!IsLdh(c))
        return Bad(kField, "the domain may contain only letters, digits, hyphens and dots");
    }
    ++labels;
    start = dot + 1;
  }
  if (labels < 2) return Bad(kField, "the domain needs at least one dot");
  return Status::Ok();
}

Status CheckName(std::string_view field, std::string_view value, std::size_t max_chars) {
  if (value.empty()) return Bad(field, "must not be empty");
  std::size_t chars = 0;
  bool only_spaces = true;
  for (std::size_t i = 0; i < value.size();) {
    char32_t cp = 0;
    const std::size_t n = DecodeUtf8(value, i, cp);
    if (n == 0) return Bad(field, "is not valid UTF-8");
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
      return Bad(field, "contains a control character (tab, line break, escape, ...)");
    if (cp == 0x2028 || cp == 0x2029) return Bad(field, "contains a line separator");
    if (cp != ' ' && cp != 0x3000) only_spaces = false;
    if (++chars > max_chars) {
      return Bad(field, "longer than " + std::to_string(max_chars) + " characters");
    }
    i += n;
  }
  if (only_spaces) return Bad(field, "must not be only spaces");
  return Status::Ok();
}

}  // namespace anshin

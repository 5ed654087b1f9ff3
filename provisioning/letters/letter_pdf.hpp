// The letter that goes in the post with a child's card (ICチップ等媒体の発送): one A4 page per
// child, in Japanese, rendered with cairo's PDF surface and pango (IPAex Gothic from Debian's
// fonts-ipaexfont), with a QR code (libqrencode) drawn as rectangles with its quiet zone.
//
// A page holds: the child's name (様) and facility, how to tap the card, the sending domain to
// allow in carrier mail filters, how to confirm the address (the QR code and its URL) and the
// call centre's number; at the foot a small reference line (child number, card token prefix)
// that matches the row of the shipping list, so a letter and its card can be paired by hand.
//
// The QR code carries the verification page's URL only, never a guardian's token: a token on
// paper would confirm an address without proving that mail reaches it. The page asks for the
// 6-digit code of the verification mail instead.
//
// Pure apart from writing the file: no store, no configuration. Thread-safe per call.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.hpp"

namespace anshin::admin::letters {

// What one letter says; every field is printed as given (plain text, never markup).
struct Letter {
  std::string child_name;        // "練馬 さくら"
  std::string child_number;      // the ward's child number; empty when not recorded
  std::string facility_name;     // "光が丘第一学童クラブ"
  std::string card_reference;    // the card token's first 8 hex digits
  std::string service_name;      // "キッズ安心メール"
  std::string sender_domain;     // "kids-anshin.example.jp"
  std::string callcenter_phone;  // "03-1234-5678"
  std::string verify_url;        // "https://kids-anshin.example.jp/verify"
};

// Writes every letter, one page each and in order, as one PDF at `path` (replacing it only
// when complete). InvalidArgument for no letters or a URL the QR code cannot hold; Unavailable
// when the file cannot be written (cairo's message).
Status WriteLettersPdf(const std::vector<Letter>& letters, const std::filesystem::path& path);

}  // namespace anshin::admin::letters

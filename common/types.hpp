// Identifiers and small value types of the anshin domain.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace anshin {

// A typed database identifier: a ChildId cannot be passed where a FacilityId is expected.
template <typename Tag>
struct Id {
  std::int64_t value = 0;
  friend auto operator<=>(const Id&, const Id&) = default;
  std::string ToString() const { return std::to_string(value); }
};
using ChildId = Id<struct ChildTag>;
using FacilityId = Id<struct FacilityTag>;
using GuardianId = Id<struct GuardianTag>;
using AgentId = Id<struct AgentTag>;

// HMAC-SHA-256(card key, IDm) truncated to 16 bytes, as 32 lowercase hex characters.
// The only card identity that leaves a facility PC (DESIGN.md §3).
class CardToken {
 public:
  CardToken() = default;
  // Validates shape: exactly 32 lowercase hex characters.
  static Result<CardToken> Parse(std::string_view hex);
  const std::string& hex() const { return hex_; }
  bool empty() const { return hex_.empty(); }
  friend auto operator<=>(const CardToken&, const CardToken&) = default;

 private:
  explicit CardToken(std::string hex) : hex_(std::move(hex)) {}
  friend class CardKey;
  std::string hex_;
};

// A FeliCa IDm: 8 bytes read from the card. Held in memory only; never stored or sent.
struct Idm {
  std::array<std::uint8_t, 8> bytes{};
  static Result<Idm> Parse(std::string_view hex);  // 16 hex digits, case-insensitive
  std::string ToHex() const;
  friend auto operator<=>(const Idm&, const Idm&) = default;
};

// The deployment's secret card key (32 bytes). Given to agents at enrolment.
class CardKey {
 public:
  static Result<CardKey> Parse(std::string_view hex);  // 64 hex digits
  static CardKey Generate();                           // from libsodium's CSPRNG
  std::string ToHex() const;
  CardToken TokenOf(const Idm& idm) const;

 private:
  std::array<std::uint8_t, 32> key_{};
};

}  // namespace anshin

template <typename Tag>
struct std::hash<anshin::Id<Tag>> {
  size_t operator()(const anshin::Id<Tag>& id) const noexcept {
    return std::hash<std::int64_t>()(id.value);
  }
};
template <>
struct std::hash<anshin::CardToken> {
  size_t operator()(const anshin::CardToken& t) const noexcept {
    return std::hash<std::string>()(t.hex());
  }
};

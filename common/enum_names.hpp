// EnumNames: the one table that maps an enum's values to the names stored in databases, sent on
// the wire and shown to people, so that no switch anywhere repeats it.
//
//   inline constexpr EnumNames<Direction, 3> kDirectionNames{
//       "direction", {{{Direction::kAuto, "auto"}, {Direction::kEntry, "entry"}, ...}}};
//   kDirectionNames.Name(Direction::kExit)   -> "exit"
//   kDirectionNames.Parse("sideways")        -> InvalidArgument naming the expected values
//   kDirectionNames.size(), kDirectionNames.values()  -> counts and loops derived from the table
//
// A table lists every value once; Index() gives a dense 0..N-1 position for per-value counters.
// Immutable and constexpr: safe from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.hpp"

namespace anshin {

template <typename E, std::size_t N>
class EnumNames {
 public:
  using Entry = std::pair<E, std::string_view>;

  constexpr EnumNames(std::string_view what, std::array<Entry, N> entries)
      : what_(what), entries_(entries) {}

  static constexpr std::size_t size() { return N; }
  constexpr const std::array<Entry, N>& entries() const { return entries_; }
  // What the values are called in error messages ("direction", "outbox state").
  constexpr std::string_view what() const { return what_; }

  // The value's name; "?" for a value missing from the table (a programming error).
  constexpr std::string_view Name(E e) const {
    for (const auto& [v, name] : entries_) {
      if (v == e) return name;
    }
    return "?";
  }

  // The value's position in the table (0..N-1), for arrays of per-value counters. N for a
  // value missing from the table.
  constexpr std::size_t Index(E e) const {
    for (std::size_t i = 0; i < N; ++i) {
      if (entries_[i].first == e) return i;
    }
    return N;
  }

  constexpr E At(std::size_t index) const { return entries_[index].first; }

  // True when entry i holds the enumerator whose value is i: the table lists the enum in
  // declaration order with none left out before its last entry. Checked by static_assert
  // beside each table.
  constexpr bool IsDense() const {
    for (std::size_t i = 0; i < N; ++i) {
      if (static_cast<std::size_t>(entries_[i].first) != i) return false;
    }
    return true;
  }

  Result<E> Parse(std::string_view s) const {
    for (const auto& [v, name] : entries_) {
      if (name == s) return v;
    }
    std::string expected;
    for (const auto& [v, name] : entries_) {
      if (!expected.empty()) expected += ", ";
      expected += name;
    }
    // The value may be anything a client sent: quote at most a short, printable prefix.
    std::string shown;
    for (char c : s.substr(0, 40)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
    return Status::InvalidArgument("unknown " + std::string(what_) + " \"" + shown +
                                   "\" (expected one of " + expected + ")");
  }

 private:
  std::string_view what_;
  std::array<Entry, N> entries_;
};

}  // namespace anshin

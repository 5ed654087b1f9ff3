// TapDetector: turns reader poll samples ("this card is in the field now" / "no card") into
// taps. Pure logic with time passed in, so every CardReader behaves the same.
//
// Rules (DESIGN.md §1 "double reads"):
//  - a card resting on the reader is ONE tap, however long it rests;
//  - a new tap of the same card needs the card to leave the field and come back;
//  - debounce: a card that comes back within `debounce` of leaving is the same presentation
//    flapping at the edge of the field, not a new tap;
//  - a different card is always a new tap, even when it replaces the previous card directly.
// The detector keeps its state across reader faults: a card that rests on the reader while the
// reader is reopened is not tapped a second time.
//
// Not thread-safe; owned by the reader thread.
#pragma once

#include <optional>

#include "common/time.hpp"
#include "common/types.hpp"

namespace anshin::agent {

class TapDetector {
 public:
  explicit TapDetector(Millis debounce) : debounce_(debounce) {}

  // Feeds one poll result taken at `now` (samples must not go back in time). Returns the IDm
  // when this sample starts a new tap.
  std::optional<Idm> Sample(const std::optional<Idm>& card, TimePoint now);

  // The card currently resting on the reader, if any.
  const std::optional<Idm>& present() const { return present_; }

 private:
  Millis debounce_;
  std::optional<Idm> present_;       // card seen in the last sample
  std::optional<Idm> last_removed_;  // the card that left the field most recently
  TimePoint removed_at_{};           // when it left
};

}  // namespace anshin::agent

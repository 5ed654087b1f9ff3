// The engine's per-day state (ChildDay) as stored text.
//
// Format, a compact JSON document:
//   {"v":[[arrival_ms|null,departure_ms|null,flags],...],"t":[accepted tap ms,...],"c":0|1}
// v: the visits in time order (Unix-epoch milliseconds; null when unknown); flags bit 0
// inferred, bit 1 corrected, bit 2 departure_unknown. t: the accepted taps, ascending.
// c: the closing alert was raised. The date is not part of the text (it is the row's key).
// Encode writes exactly this; Decode reads it with a fast scanner and falls back to a JSON
// parser for any other valid JSON spelling of the same document. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/engine.hpp"
#include "common/status.hpp"
#include "common/time.hpp"

namespace anshin {

std::string EncodeChildDay(const ChildDay& day);
// InvalidArgument naming what is wrong for text that is not such a document.
Result<ChildDay> DecodeChildDay(const LocalDate& date, std::string_view text);

}  // namespace anshin

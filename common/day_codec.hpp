// The stored form of the engine's per-child day state (ChildDay), as kept in the server
// database's child_days.state column. Pure; thread-safe.
//
// Format: one compact JSON object, written without any whitespace, keys in this order:
//
//   {"v":[[A,D,F],...],"t":[T,...],"c":C}
//
//   v  the visits in time order; each is a three-element array:
//        A  arrival, Unix epoch milliseconds (integer), or null when the arrival tap was missing
//        D  departure, Unix epoch milliseconds, or null while the visit is open (or when it was
//           closed without a departure tap, see flag 4)
//        F  flags, an integer 0..7: 1 = inferred (closed by an inferred departure),
//           2 = corrected (an inferred departure later corrected), 4 = departure_unknown
//           (closed without a departure tap)
//   t  the accepted taps (not judged duplicates), ascending, Unix epoch milliseconds
//   c  1 when the closing-time alert was raised for the day, else 0
//
// The date is not part of the text: it is the row's key and passed to DecodeChildDay.
// Example: {"v":[[1795672920000,1795683600000,0],[null,1795690800000,1]],"t":[1795672920000,
// 1795683600000,1795690800000],"c":0}
//
// EncodeChildDay writes exactly this. DecodeChildDay reads it with a fast scanner (the ingest
// path decodes one state per tap) and, when the scanner does not match byte for byte, with a
// JSON parser, so the same document with whitespace, other key order or extra keys also reads
// back. Anything else (not JSON, a missing key, a wrong type, a number that is not an integer
// in range, flags outside 0..7, c other than 0 or 1) is InvalidArgument naming what is wrong;
// decoding never throws.
#pragma once

#include <string>
#include <string_view>

#include "common/engine.hpp"
#include "common/status.hpp"
#include "common/time.hpp"

namespace anshin {

std::string EncodeChildDay(const ChildDay& day);
// The day stored for `date`; the result's date is `date`.
Result<ChildDay> DecodeChildDay(const LocalDate& date, std::string_view text);

}  // namespace anshin

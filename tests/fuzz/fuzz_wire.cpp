// fuzz_wire: the protocol v1 bodies (common/wire.hpp) as the server reads an upload and the agent
// reads the server's answers. Every input goes through all four parsers.
//
// Invariants: no parser crashes, throws, leaks or runs into undefined behaviour; a body that
// parses serializes to a body that parses back to the same value (parse(serialize(x)) == x);
// a refusal's ErrorJson (the 400 body the server sends) is itself one valid JSON object.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/wire.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace anshin::wire {
namespace {

// The answer the server would send for a refused body: must not throw, must be JSON.
void CheckErrorBody(const Status& status) {
  const std::string body = ErrorJson(status);
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(j.is_object() && j.contains("error"), body);
}

bool SameBatch(const TapBatch& a, const TapBatch& b) {
  return a.agent == b.agent && a.sent_at == b.sent_at && a.taps == b.taps && a.health == b.health;
}

bool SameAck(const TapAck& a, const TapAck& b) {
  return a.acked_through == b.acked_through && a.allowlist_version == b.allowlist_version &&
         a.server_time == b.server_time && a.gap == b.gap && a.rejected == b.rejected;
}

bool SameDelta(const AllowlistDelta& a, const AllowlistDelta& b) {
  return a.version == b.version && a.full == b.full && a.added == b.added && a.removed == b.removed;
}

// parse(text) ok -> parse(serialize(parse(text))) ok and equal.
template <typename Parse, typename Same>
void RoundTrip(std::string_view text, Parse parse, Same same) {
  auto first = parse(text);
  if (!first.ok()) {
    CheckErrorBody(first.status());
    return;
  }
  const std::string again = Serialize(*first);
  // Serializing may spell a body longer than it came (a default direction written out); past
  // the body limit the second parse is refused by design, which is no round-trip failure.
  if (again.size() > kMaxBodyBytes) return;
  auto second = parse(again);
  FUZZ_CHECK(second.ok(), "serialized " + again + " does not parse: " + second.status().ToString());
  FUZZ_CHECK(same(*first, *second), "round trip changed the value: " + again);
  FUZZ_CHECK(Serialize(*second) == again, "serializing is not stable: " + again);
}

}  // namespace
}  // namespace anshin::wire

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace anshin::wire;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  RoundTrip(text, ParseTapBatch, SameBatch);
  RoundTrip(text, ParseTapAck, SameAck);
  RoundTrip(text, ParseAllowlistDelta, SameDelta);
  RoundTrip(text, ParseHealth, [](const Health& a, const Health& b) { return a == b; });
  return 0;
}

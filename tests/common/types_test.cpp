#include <catch2/catch.hpp>

#include "common/types.hpp"

namespace anshin {
namespace {

TEST_CASE("card tokens are HMAC-SHA-256 of the IDm truncated to 16 bytes", "[types]") {
  // A fixed 32-byte key and IDm; the expected value comes from
  // `printf '\x01\x2e\x4c\xd0\x8c\x1a\x3b\x42' | openssl dgst -sha256 -mac HMAC -macopt
  // hexkey:00..1f`.
  auto key = CardKey::Parse("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  REQUIRE(key.ok());
  auto idm = Idm::Parse("012E4CD08C1A3B42");
  REQUIRE(idm.ok());
  CardToken t = key->TokenOf(*idm);
  CHECK(t.hex().size() == 32);
  CHECK(t.hex() == "3212194f27d8e9a8b8d6703530a53e10");
  CHECK(key->TokenOf(*idm) == t);  // deterministic
  CHECK(key->TokenOf(*Idm::Parse("012E4CD08C1A3B43")) != t);
  CHECK(CardKey::Generate().TokenOf(*idm) != t);  // a different deployment, a different token
}

TEST_CASE("identifiers are validated", "[types]") {
  CHECK_FALSE(Idm::Parse("012E4CD08C1A3B4").ok());
  CHECK_FALSE(Idm::Parse("012E4CD08C1A3B4G").ok());
  CHECK(Idm::Parse("012e4cd08c1a3b42")->ToHex() == "012e4cd08c1a3b42");
  CHECK_FALSE(CardToken::Parse("0123456789ABCDEF0123456789ABCDEF").ok());
  CHECK_FALSE(CardKey::Parse("00").ok());
  auto k = CardKey::Generate();
  CHECK(CardKey::Parse(k.ToHex() + "\n").ok());
}

TEST_CASE("status carries a code, a message and context", "[status]") {
  Status s = Status::NotFound("card 12").WithContext("loading tap 3");
  CHECK(s.ToString() == "not found: loading tap 3: card 12");
  CHECK(HttpStatusOf(Status::Code::kTooLarge) == 413);
  Result<int> r = Status::Unavailable("db busy");
  CHECK_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kUnavailable);
  Result<int> v = 3;
  CHECK(*v == 3);
  CHECK(v.status().ok());
}

}  // namespace
}  // namespace anshin

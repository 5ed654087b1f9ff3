#include "common/types.hpp"

#include <sodium.h>

#include <stdexcept>

namespace anshin {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <size_t N>
bool DecodeHex(std::string_view hex, std::array<std::uint8_t, N>& out) {
  if (hex.size() != 2 * N) return false;
  for (size_t i = 0; i < N; ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::string EncodeHex(const std::uint8_t* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kDigits[p[i] >> 4];
    s[2 * i + 1] = kDigits[p[i] & 15];
  }
  return s;
}

void EnsureSodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

}  // namespace

Result<CardToken> CardToken::Parse(std::string_view hex) {
  if (hex.size() != 32) return Status::InvalidArgument("a card token is 32 hex characters");
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Status::InvalidArgument("a card token is lowercase hex");
    }
  }
  return CardToken(std::string(hex));
}

Result<Idm> Idm::Parse(std::string_view hex) {
  Idm idm;
  if (!DecodeHex(hex, idm.bytes)) return Status::InvalidArgument("an IDm is 16 hex digits");
  return idm;
}

std::string Idm::ToHex() const { return EncodeHex(bytes.data(), bytes.size()); }

Result<CardKey> CardKey::Parse(std::string_view hex) {
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' '))
    hex.remove_suffix(1);
  CardKey k;
  if (!DecodeHex(hex, k.key_)) return Status::InvalidArgument("the card key is 64 hex digits");
  return k;
}

CardKey CardKey::Generate() {
  EnsureSodium();
  CardKey k;
  randombytes_buf(k.key_.data(), k.key_.size());
  return k;
}

std::string CardKey::ToHex() const { return EncodeHex(key_.data(), key_.size()); }

CardToken CardKey::TokenOf(const Idm& idm) const {
  EnsureSodium();
  std::uint8_t mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key_.data(), key_.size());
  crypto_auth_hmacsha256_update(&st, idm.bytes.data(), idm.bytes.size());
  crypto_auth_hmacsha256_final(&st, mac);
  sodium_memzero(&st, sizeof st);
  return CardToken(EncodeHex(mac, 16));
}

}  // namespace anshin

#include "store/sqlite/backup_file.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace anshin::store {
namespace {

constexpr std::uint8_t kMagic[8] = {'A', 'N', 'S', 'H', 'I', 'N', 'B', 'K'};
constexpr std::uint8_t kFormatVersion = 1;
constexpr std::size_t kKeyCheckSize = 16;
constexpr std::size_t kPrefixSize = sizeof kMagic + 1 + kKeyCheckSize;  // authenticated as AD
constexpr std::size_t kStreamHeaderSize = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
constexpr std::size_t kSealOverhead = crypto_secretstream_xchacha20poly1305_ABYTES;
constexpr char kSqliteMagic[16] = "SQLite format 3";  // and its terminating NUL
static_assert(kPrefixSize + kStreamHeaderSize == kBackupHeaderSize);
static_assert(crypto_secretstream_xchacha20poly1305_KEYBYTES == BackupKey::kSize);

void InitSodium() {
  // sodium_init() is idempotent and thread-safe; it fails only without a randomness source.
  if (sodium_init() < 0) std::abort();
}

std::array<std::uint8_t, kKeyCheckSize> KeyCheck(const BackupKey& key) {
  static constexpr char kLabel[] = "anshin backup key check";
  std::array<std::uint8_t, kKeyCheckSize> out{};
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(kLabel),
                     sizeof kLabel - 1, key.bytes().data(), key.bytes().size());
  return out;
}

// Reads until `buf` is full or the source ends; returns the count.
Result<std::size_t> ReadFull(const ReadFn& read, std::span<std::uint8_t> buf) {
  std::size_t got = 0;
  while (got < buf.size()) {
    ANSHIN_ASSIGN_OR_RETURN(std::size_t n, read(buf.subspan(got)));
    if (n == 0) break;
    got += n;
  }
  return got;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Wipes a buffer of the image or the key when it goes out of scope.
struct WipedBuffer {
  explicit WipedBuffer(std::size_t n) : bytes(n) {}
  ~WipedBuffer() { sodium_memzero(bytes.data(), bytes.size()); }
  std::vector<std::uint8_t> bytes;
};

}  // namespace

BackupKey::~BackupKey() { sodium_memzero(bytes_.data(), bytes_.size()); }

BackupKey BackupKey::Generate() {
  InitSodium();
  BackupKey key;
  randombytes_buf(key.bytes_.data(), key.bytes_.size());
  return key;
}

Result<BackupKey> BackupKey::Parse(std::string_view text) {
  BackupKey key;
  if (text.size() == kSize) {
    std::memcpy(key.bytes_.data(), text.data(), kSize);
    return key;
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  const auto bad = Status::InvalidArgument(
      "not a backup key: expected 64 hex digits or 32 bytes (anshin-admin backup keygen makes "
      "one)");
  if (text.size() != 2 * kSize) return bad;
  for (std::size_t i = 0; i < kSize; ++i) {
    const int hi = HexDigit(text[2 * i]);
    const int lo = HexDigit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return bad;
    key.bytes_[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return key;
}

std::string BackupKey::FileText() const {
  std::string hex(2 * kSize + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes_.data(), bytes_.size());
  hex.back() = '\n';
  return hex;
}

BackupFormat DetectBackupFormat(std::span<const std::uint8_t> first) {
  if (first.size() >= sizeof kMagic && std::memcmp(first.data(), kMagic, sizeof kMagic) == 0) {
    return BackupFormat::kEncrypted;
  }
  if (first.size() >= sizeof kSqliteMagic &&
      std::memcmp(first.data(), kSqliteMagic, sizeof kSqliteMagic) == 0) {
    return BackupFormat::kSqlite;
  }
  return BackupFormat::kUnknown;
}

Status EncryptBackup(const ReadFn& read, const WriteFn& write, const BackupKey& key) {
  InitSodium();
  std::array<std::uint8_t, kBackupHeaderSize> header{};
  std::memcpy(header.data(), kMagic, sizeof kMagic);
  header[sizeof kMagic] = kFormatVersion;
  const auto check = KeyCheck(key);
  std::memcpy(header.data() + sizeof kMagic + 1, check.data(), check.size());
  crypto_secretstream_xchacha20poly1305_state state;
  crypto_secretstream_xchacha20poly1305_init_push(&state, header.data() + kPrefixSize,
                                                  key.bytes().data());
  ANSHIN_RETURN_IF_ERROR(write(header));

  WipedBuffer plain(kBackupChunkSize);
  std::vector<std::uint8_t> sealed(kBackupChunkSize + kSealOverhead);
  bool first = true;
  for (;;) {
    ANSHIN_ASSIGN_OR_RETURN(std::size_t n, ReadFull(read, plain.bytes));
    // A short (or empty) chunk is the last; a file of whole chunks ends with an empty one.
    const bool last = n < kBackupChunkSize;
    unsigned long long sealed_size = 0;
    crypto_secretstream_xchacha20poly1305_push(
        &state, sealed.data(), &sealed_size, plain.bytes.data(), n, first ? header.data() : nullptr,
        first ? kPrefixSize : 0, last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    first = false;
    ANSHIN_RETURN_IF_ERROR(write(std::span(sealed.data(), sealed_size)));
    if (last) break;
  }
  sodium_memzero(&state, sizeof state);
  return Status::Ok();
}

Status DecryptBackup(const ReadFn& read, const WriteFn& write, const BackupKey& key) {
  InitSodium();
  std::array<std::uint8_t, kBackupHeaderSize> header{};
  ANSHIN_ASSIGN_OR_RETURN(std::size_t got, ReadFull(read, header));
  if (DetectBackupFormat(std::span(header.data(), got)) != BackupFormat::kEncrypted) {
    return Status::InvalidArgument("not an encrypted anshin backup (no ANSHINBK header)");
  }
  if (got < kBackupHeaderSize) {
    return Status::FailedPrecondition("the backup is truncated: its header is incomplete");
  }
  if (header[sizeof kMagic] != kFormatVersion) {
    return Status::FailedPrecondition(
        "the backup's format version " + std::to_string(header[sizeof kMagic]) +
        " is not one this anshin-admin reads (" + std::to_string(kFormatVersion) +
        "): restore it with the release that wrote it");
  }
  const auto check = KeyCheck(key);
  if (sodium_memcmp(check.data(), header.data() + sizeof kMagic + 1, check.size()) != 0) {
    return Status::PermissionDenied(
        "wrong key: this backup was encrypted with a different key file");
  }
  crypto_secretstream_xchacha20poly1305_state state;
  if (crypto_secretstream_xchacha20poly1305_init_pull(&state, header.data() + kPrefixSize,
                                                      key.bytes().data()) != 0) {
    return Status::FailedPrecondition("the backup is damaged: its stream header is invalid");
  }

  std::vector<std::uint8_t> sealed(kBackupChunkSize + kSealOverhead);
  WipedBuffer plain(kBackupChunkSize);
  for (std::uint64_t chunk = 1;; ++chunk) {
    ANSHIN_ASSIGN_OR_RETURN(std::size_t n, ReadFull(read, sealed));
    if (n == 0) {
      return Status::FailedPrecondition(
          "the backup is truncated: it ends after chunk " + std::to_string(chunk - 1) +
          " without its final chunk (copy it again from where it was written)");
    }
    if (n < kSealOverhead) {
      return Status::FailedPrecondition("the backup is truncated in chunk " +
                                        std::to_string(chunk));
    }
    unsigned long long plain_size = 0;
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(
            &state, plain.bytes.data(), &plain_size, &tag, sealed.data(), n,
            chunk == 1 ? header.data() : nullptr, chunk == 1 ? kPrefixSize : 0) != 0) {
      if (n < sealed.size()) {
        return Status::FailedPrecondition("the backup is truncated or was altered: chunk " +
                                          std::to_string(chunk) +
                                          ", the last one present, does not authenticate");
      }
      return Status::FailedPrecondition("the backup is damaged or was altered: chunk " +
                                        std::to_string(chunk) + " does not authenticate");
    }
    ANSHIN_RETURN_IF_ERROR(write(std::span(plain.bytes.data(), plain_size)));
    if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) break;
    if (n < sealed.size()) {
      return Status::FailedPrecondition("the backup is truncated: chunk " + std::to_string(chunk) +
                                        " is short and not the last");
    }
  }
  // Bytes after the final chunk cannot pass: the final chunk is always short, so they are read
  // with it and make it fail to authenticate.
  sodium_memzero(&state, sizeof state);
  return Status::Ok();
}

}  // namespace anshin::store

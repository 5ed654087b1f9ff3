// The encrypted backup file format and its key (anshin-admin backup --key-file, restore).
//
// A plain backup is the SQLite database image itself (it starts with SQLite's own header,
// "SQLite format 3\0", and opens with the sqlite3 tool). An encrypted backup is that image
// sealed with libsodium's crypto_secretstream_xchacha20poly1305, in chunks:
//
//   offset  size  field
//   0       8     magic "ANSHINBK"
//   8       1     format version (1)
//   9       16    key check: BLAKE2b-128 of "anshin backup key check", keyed with the key
//   25      24    secretstream header (random nonce material)
//   49      ...   chunks: each is 64 KiB of the image sealed (64 KiB + 17 bytes), the last one
//                 shorter (0 .. 64 KiB of image, + 17) and tagged FINAL; the first chunk
//                 authenticates bytes 0..24 as additional data.
//
// What restore can tell apart: not a backup (neither header), a newer format version, the
// wrong key (key check differs), an altered or damaged file (a chunk fails authentication;
// bytes after the end make the final chunk fail), a truncated file (the input ends before the
// FINAL chunk, or inside a chunk). Each is a
// Status with a message in words; nothing about the key or the contents is in any message.
//
// The key is 32 random bytes. Its file holds them as 64 hex digits and a newline (as the card
// key); a file of exactly 32 raw bytes is read too. Key bytes are wiped when a BackupKey dies.
//
// The stream functions read and write through callbacks so that the format is tested on
// memory and used on files alike. Not thread-safe per call; no global state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace anshin::store {

class BackupKey {
 public:
  static constexpr std::size_t kSize = 32;
  // 32 bytes from the system's CSPRNG (randombytes_buf).
  static BackupKey Generate();
  // The contents of a key file: 64 hex digits (surrounding blanks and newlines ignored) or
  // exactly 32 raw bytes. InvalidArgument otherwise (the message never quotes the contents).
  static Result<BackupKey> Parse(std::string_view file_contents);
  // "<64 hex digits>\n", what a key file holds.
  std::string FileText() const;
  std::span<const std::uint8_t, kSize> bytes() const { return bytes_; }

  BackupKey(const BackupKey& other) = default;
  BackupKey& operator=(const BackupKey& other) = default;
  ~BackupKey();

 private:
  BackupKey() = default;
  std::array<std::uint8_t, kSize> bytes_{};
};

enum class BackupFormat { kSqlite, kEncrypted, kUnknown };

// What the first bytes of a file say it is (a prefix of at least 16 bytes decides).
BackupFormat DetectBackupFormat(std::span<const std::uint8_t> first_bytes);

// Fills `buf` from the source; returns how many bytes were read (fewer only at the end).
using ReadFn = std::function<Result<std::size_t>(std::span<std::uint8_t> buf)>;
using WriteFn = std::function<Status(std::span<const std::uint8_t> data)>;

inline constexpr std::size_t kBackupChunkSize = 64 * 1024;
inline constexpr std::size_t kBackupHeaderSize = 49;

// Seals everything `read` yields into the encrypted format, through `write`.
Status EncryptBackup(const ReadFn& read, const WriteFn& write, const BackupKey& key);

// Opens an encrypted backup from `read` and writes the image through `write`. On failure
// `write` may have received a prefix of the image: the caller discards its output.
Status DecryptBackup(const ReadFn& read, const WriteFn& write, const BackupKey& key);

}  // namespace anshin::store

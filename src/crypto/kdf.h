// Argon2id key derivation from a passphrase (libsodium crypto_pwhash), for passphrase-protected
// key files.
//
//   Argon2idParams p = Argon2idParams::Moderate();
//   std::array<uint8_t, 16> salt = RandomArray<kArgon2idSaltSize>();
//   StatusOr<AeadKey> key = DeriveKeyArgon2id("correct horse", salt, p);
//
// Limits: opslimit in [1, 2^32-1], memlimit in [8 KiB, 4 GiB]; a passphrase of at most
// kMaxPassphraseBytes. Out-of-range parameters are kInvalidArgument (so that a tampered key file
// cannot ask for unbounded work); running out of memory is kResourceExhausted. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "core/status.h"
#include "crypto/aead.h"
#include "crypto/bytes.h"

namespace comity::crypto {

inline constexpr size_t kArgon2idSaltSize = 16;
inline constexpr size_t kMaxPassphraseBytes = 1024;
inline constexpr uint64_t kArgon2idMinMemlimit = 8 << 10;
inline constexpr uint64_t kArgon2idMaxMemlimit = uint64_t{4} << 30;
inline constexpr uint64_t kArgon2idMaxOpslimit = 0xffffffffu;

struct Argon2idParams {
  uint64_t opslimit = 3;
  uint64_t memlimit = 256 << 20;  // bytes

  // libsodium's MODERATE profile (3 passes, 256 MiB): about a second; the default for key files.
  static Argon2idParams Moderate() { return {3, 256 << 20}; }
  // libsodium's INTERACTIVE profile (2 passes, 64 MiB).
  static Argon2idParams Interactive() { return {2, 64 << 20}; }
};

Status ValidateArgon2idParams(const Argon2idParams& params);

StatusOr<AeadKey> DeriveKeyArgon2id(std::string_view passphrase, ByteSpan salt,
                                    const Argon2idParams& params);

}  // namespace comity::crypto

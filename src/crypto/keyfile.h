// Secret key files: one text line naming the key type, optionally protected by a passphrase
// (Argon2id + XChaCha20-Poly1305). Format (docs/formats/log.md, "Key files"):
//
//   comity-secret-key/v1 ed25519 plain <base64 key>
//   comity-secret-key/v1 x25519 argon2id <opslimit> <memlimit> <b64 salt> <b64 nonce> <b64 ct>
//
// For a protected key, everything before the ciphertext is the AEAD's associated data, so
// neither the type nor the parameters can be changed without detection.
//
//   Ed25519PrivateKey k = Ed25519PrivateKey::Generate();
//   RETURN_IF_ERROR(WriteSecretKeyFile(path, EncodeSecretKey(SecretKeyType::kEd25519, k.seed())));
//   ASSIGN_OR_RETURN(std::string text, ReadSecretKeyFile(path));
//   ASSIGN_OR_RETURN(SecretKeyMaterial m, DecodeSecretKey(text, std::nullopt));
//
// Files are created with mode 0600 and never overwritten; reading refuses files that group or
// others may access (like ssh). Thread-safe (no shared state).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/kdf.h"

namespace comity::crypto {

enum class SecretKeyType { kEd25519, kX25519 };
std::string_view SecretKeyTypeName(SecretKeyType type);

inline constexpr size_t kMaxKeyFileBytes = 4096;

struct SecretKeyMaterial {
  SecretKeyType type = SecretKeyType::kEd25519;
  std::array<uint8_t, 32> key{};  // Ed25519 seed or X25519 scalar
  SecretKeyMaterial() = default;
  SecretKeyMaterial(const SecretKeyMaterial&) = default;
  SecretKeyMaterial& operator=(const SecretKeyMaterial&) = default;
  ~SecretKeyMaterial();
};

std::string EncodeSecretKey(SecretKeyType type, const std::array<uint8_t, 32>& key);
StatusOr<std::string> EncodeSecretKeyWithPassphrase(SecretKeyType type,
                                                    const std::array<uint8_t, 32>& key,
                                                    std::string_view passphrase,
                                                    const Argon2idParams& params);

// True when DecodeSecretKey needs a passphrase for `text`.
bool SecretKeyIsProtected(std::string_view text);

// Errors: kInvalidArgument for a malformed file; kFailedPrecondition when a passphrase is needed
// but none was given; kPermissionDenied for a wrong passphrase (or a modified file).
StatusOr<SecretKeyMaterial> DecodeSecretKey(std::string_view text,
                                            std::optional<std::string_view> passphrase);

// Creates `path` with mode 0600, writes, fsyncs file and directory. kAlreadyExists if it exists.
Status WriteSecretKeyFile(const std::string& path, std::string_view encoded);
// kPermissionDenied if the file's mode gives group or others any access; kNotFound if absent.
StatusOr<std::string> ReadSecretKeyFile(const std::string& path);

}  // namespace comity::crypto

// Streaming authenticated encryption: libsodium's crypto_secretstream_xchacha20poly1305, for
// data too large to hold in memory (evidence packages). Each chunk is authenticated in order;
// reordering, dropping, modifying or truncating chunks is detected.
//
//   SecretStreamKey key = RandomArray<kSecretStreamKeySize>();
//   SecretStreamWriter w(key);
//   Send(w.header());
//   Send(*w.Push(AsBytes(part1), /*final=*/false));
//   Send(*w.Push(AsBytes(part2), /*final=*/true));
//
//   ASSIGN_OR_RETURN(SecretStreamReader r, SecretStreamReader::Create(key, header));
//   ASSIGN_OR_RETURN(std::string p1, r.Pull(c1));
//   ASSIGN_OR_RETURN(std::string p2, r.Pull(c2));
//   if (!r.finished()) { /* truncated stream */ }
//
// Each ciphertext chunk is kSecretStreamOverhead bytes longer than its plaintext. Chunks are at
// most kSecretStreamMaxChunk bytes. Errors: kDataLoss for a modified/reordered chunk;
// kFailedPrecondition when pushing or pulling after the final chunk. State is wiped on
// destruction. Both classes are thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/status.h"
#include "crypto/bytes.h"

namespace comity::crypto {

inline constexpr size_t kSecretStreamKeySize = 32;
inline constexpr size_t kSecretStreamHeaderSize = 24;
inline constexpr size_t kSecretStreamOverhead = 17;
inline constexpr size_t kSecretStreamMaxChunk = 16 << 20;  // 16 MiB, our own bound

using SecretStreamKey = std::array<uint8_t, kSecretStreamKeySize>;
using SecretStreamHeader = std::array<uint8_t, kSecretStreamHeaderSize>;

class SecretStreamWriter {
 public:
  explicit SecretStreamWriter(const SecretStreamKey& key);
  SecretStreamWriter(const SecretStreamWriter&) = delete;
  SecretStreamWriter& operator=(const SecretStreamWriter&) = delete;
  ~SecretStreamWriter();

  // Sent ahead of the first chunk; not secret.
  const SecretStreamHeader& header() const { return header_; }
  StatusOr<std::string> Push(ByteSpan chunk, bool final);

 private:
  // libsodium's crypto_secretstream_xchacha20poly1305_state (52 bytes), kept opaque here so
  // that libsodium stays private to this module.
  alignas(16) std::array<uint8_t, 64> state_{};
  SecretStreamHeader header_{};
  bool finished_ = false;
};

class SecretStreamReader {
 public:
  // kInvalidArgument when the header is not 24 bytes.
  static StatusOr<SecretStreamReader> Create(const SecretStreamKey& key, ByteSpan header);
  SecretStreamReader(SecretStreamReader&& other) noexcept;
  SecretStreamReader& operator=(SecretStreamReader&&) = delete;
  ~SecretStreamReader();

  StatusOr<std::string> Pull(ByteSpan chunk);
  // True once the chunk marked final has been read.
  bool finished() const { return finished_; }

 private:
  SecretStreamReader() = default;
  alignas(16) std::array<uint8_t, 64> state_{};
  bool finished_ = false;
};

}  // namespace comity::crypto

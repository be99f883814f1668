// SHA-256 (FIPS 180-4) through OpenSSL's EVP interface, one-shot and incremental.
//
//   Sha256Digest d = Sha256(AsBytes("abc"));   // ba7816bf...
//   Sha256Hasher h;                            // reusable: Finish() resets it
//   h.Update(AsBytes("a"));
//   h.Update(AsBytes("bc"));
//   Sha256Digest same = h.Finish();
//
// Sha256Hasher keeps one EVP context for its lifetime, so hashing many small inputs (Merkle
// nodes) costs no allocation per hash. Sha256Hasher is thread-compatible (one per thread);
// Sha256() is thread-safe (it uses a per-thread hasher).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/bytes.h"

struct evp_md_ctx_st;

namespace comity::crypto {

inline constexpr size_t kSha256Size = 32;
using Sha256Digest = std::array<uint8_t, kSha256Size>;

class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(ByteSpan data);
  void Update(std::string_view data) { Update(AsBytes(data)); }
  // Returns the digest of everything since construction or the last Finish()/Reset(), and
  // starts a new hash.
  Sha256Digest Finish();
  void Reset();

 private:
  evp_md_ctx_st* ctx_;
};

Sha256Digest Sha256(ByteSpan data);
inline Sha256Digest Sha256(std::string_view data) { return Sha256(AsBytes(data)); }

}  // namespace comity::crypto

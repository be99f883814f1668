// RFC 6962 / RFC 9162 Merkle tree hashing with SHA-256.
//
//   leaf hash = SHA-256(0x00 || entry)
//   node hash = SHA-256(0x01 || left || right)
//   root of the empty tree = SHA-256("")
//
//   TreeHasher h;                       // reuses one SHA-256 context: no allocation per hash
//   Hash leaf = h.Leaf(AsBytes("one"));
//   Hash node = h.Node(leaf, leaf);
//   std::string b64 = HashToBase64(node);
//
// TreeHasher is thread-compatible; the free functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/bytes.h"
#include "crypto/sha256.h"

namespace comity::tlog {

using crypto::AsBytes;
using crypto::ByteSpan;

inline constexpr size_t kHashSize = 32;
using Hash = crypto::Sha256Digest;

class TreeHasher {
 public:
  Hash Leaf(ByteSpan entry);
  Hash Node(const Hash& left, const Hash& right);

 private:
  crypto::Sha256Hasher sha_;
};

// Per-thread TreeHasher.
Hash LeafHash(ByteSpan entry);
Hash NodeHash(const Hash& left, const Hash& right);
const Hash& EmptyRootHash();

std::string HashToBase64(const Hash& h);
// kInvalidArgument unless `text` is canonical base64 of exactly 32 bytes; `what` names the field.
StatusOr<Hash> HashFromBase64(std::string_view text, std::string_view what = "hash");
// kInvalidArgument unless `bytes` is exactly 32 bytes.
StatusOr<Hash> HashFromBytes(ByteSpan bytes, std::string_view what = "hash");
inline std::string_view HashBytes(const Hash& h) { return crypto::AsChars(h); }

}  // namespace comity::tlog
